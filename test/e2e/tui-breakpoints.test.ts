/**
 * Breakpoints in the real TUI (issue 5): `node bin/proxyctl.js start --port 0` in a detached tmux
 * session (120x40, test/helpers/tmux.ts), an intercept filter set with `i`, a request paused on
 * its way, edited with `e` in $EDITOR (a sed script) and resumed by that edit — a good edit
 * resumes the flow directly, no `a` needed. The origin records what it received.
 * Needs the built CLI (dist/), tmux and curl.
 */
import { chmod, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { curl } from '../helpers/curl.js';
import { makeTempHome, type TempHome } from '../helpers/test-ca.js';
import { killAllTuis, startTui } from '../helpers/tmux.js';

let editorScript = '';
let tempHome: TempHome | null = null;
let origin: Server | null = null;
const received: IncomingHttpHeaders[] = [];

describe('breakpoints in the TUI (tmux)', () => {
  beforeEach(async () => {
    tempHome = await makeTempHome();
    editorScript = join(tempHome.home, 'edit.sh');
    await writeFile(editorScript, `#!/bin/sh\nsed -i 's/^X-Test: original/X-Test: edited/' "$1"\n`);
    await chmod(editorScript, 0o755);
    received.length = 0;
    origin = createServer((req, res) => {
      received.push(req.headers);
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(`echo ${req.headers['x-test'] ?? '-'}\n`);
    });
    await new Promise<void>((resolve) => origin!.listen(0, '127.0.0.1', resolve));
  });

  afterEach(async () => {
    await killAllTuis();
    await new Promise<void>((resolve) => (origin ? origin.close(() => resolve()) : resolve()));
    origin = null;
    await tempHome?.cleanup();
    tempHome = null;
  });

  it('pauses a matching request, edits it in $EDITOR and resumes it edited', { timeout: 90_000 }, async () => {
    const originPort = (origin!.address() as AddressInfo).port;
    // Our editor, and no $VISUAL (it would win over $EDITOR).
    const tui = await startTui({ home: tempHome!.home, env: { EDITOR: editorScript } });
    const port = tui.port;

    await tui.keys('i');
    await tui.waitForScreen('intercept:', 'the intercept prompt');
    await tui.type('~u /echo');
    await tui.keys('Enter');
    await tui.waitForScreen('intercept ~u /echo', 'the intercept filter in the status bar');

    // In the background: the request waits at the breakpoint until the edit resumes it.
    const pending = curl(['-sS', '-x', `http://127.0.0.1:${port}`, '-H', 'X-Test: original', `http://127.0.0.1:${originPort}/echo`], { timeoutMs: 40_000 });
    let screen = await tui.waitForScreen((s) => /\/echo ⏸ \d+s/.test(s) && s.includes('1 paused'), 'the paused /echo flow');
    expect(screen).toContain('PAU');
    expect(received).toHaveLength(0);

    await tui.keys('e');
    screen = await tui.waitForScreen('resumed with the edited request', 'the edit applied');
    const done = await pending;
    expect(done.code).toBe(0);
    expect(done.stdout.toString()).toBe('echo edited\n');
    expect(received).toHaveLength(1);
    expect(received[0]!['x-test']).toBe('edited');
    await tui.waitForScreen((s) => /GET\s+200\s+127\.0\.0\.1\s+\/echo/.test(s) && !s.includes('paused'), 'the finished /echo flow');

    // The detail view shows what the edit changed.
    await tui.keys('Enter');
    screen = await tui.waitForScreen('Edited at the breakpoint', 'the edit summary');
    expect(screen).toContain('~ X-Test: original → edited');
  });
});
