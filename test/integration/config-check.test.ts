/**
 * `proxyctl config check FILE` through the BUILT CLI (issue 6): run `npm run build` first (`npm test`
 * does). Exit 0 and a summary for a good file; exit 2 and every problem with its path for a bad one.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killAll, runCli } from '../helpers/cli.js';

describe('proxyctl config check (real CLI)', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'proxyctl-config-check-'));
    await mkdir(join(dir, 'public'));
  });
  afterEach(async () => {
    await killAll();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function file(name: string, text: string): Promise<string> {
    const p = join(dir, name);
    await writeFile(p, text);
    return p;
  }

  const GOOD_YAML = `
listen: { host: 127.0.0.1, port: 8080 }
cache: { enabled: true }
rules:
  - { type: block, filter: "~d ads.example", status: 403 }
  - { type: mock, filter: "~u /health$", status: 200, body: ok }
  - { type: mock, filter: "~u /ready$", status: 204 }
  - { type: map-local, filter: "~u ^/static/", path: ./public }
`;

  it('a valid YAML file: exit 0, "FILE: ok (N rules)" and a summary on stdout', async () => {
    const p = await file('good.yaml', GOOD_YAML);
    const r = await runCli(['config', 'check', p]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`${p}: ok (4 rules)`);
    expect(lines[1]).toContain('listen 127.0.0.1:8080');
    expect(lines[1]).toContain('cache on');
    expect(lines[1]).toContain('rules: block 1, mock 2, map-local 1');
    expect(r.stderr).toBe('');
  });

  it('a valid JSON file works the same', async () => {
    const p = await file('good.json', JSON.stringify({ listen: { port: 9090 }, cache: { enabled: false }, rules: [{ type: 'block', filter: '~d x', action: 'drop' }] }));
    const r = await runCli(['config', 'check', p]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${p}: ok (1 rule)\n`);
    expect(r.stdout).toContain('listen 127.0.0.1:9090');
    expect(r.stdout).toContain('cache off');
  });

  it('an empty file is valid: every option keeps its default', async () => {
    const p = await file('empty.yaml', '');
    const r = await runCli(['config', 'check', p]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${p}: ok (0 rules)\n  sets nothing: every option keeps its default\n`);
  });

  it('lists every problem with its path on stderr and exits 2, naming unknown keys', async () => {
    const p = await file(
      'bad.yaml',
      `
listen: { port: 70000 }
cache: { enabled: yes-please }
colour: blue
rules:
  - { type: block, filter: "~d a" }
  - { type: mock, filter: "~u /x" }
  - { type: mock, filter: "~u /y", status: 42 }
  - { type: block, filter: "~d b", stauts: 404 }
`,
    );
    const r = await runCli(['config', 'check', p]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(`${p}: ${lines.length - 1} problems`);
    const problems = lines.slice(1);
    for (const line of problems) expect(line).toMatch(/^ {2}\S+: /);
    expect(problems).toContain('  rules[2].status: expected a number between 100 and 599');
    expect(problems).toContain('  rules[3].stauts: unknown key');
    expect(problems).toContain('  colour: unknown key');
    expect(problems).toContainEqual(expect.stringMatching(/^ {2}listen\.port: /));
    expect(problems).toContainEqual(expect.stringMatching(/^ {2}cache\.enabled: /));
    expect(problems.length).toBeGreaterThanOrEqual(5);
  });

  it('the same problems from a JSON file', async () => {
    const p = await file('bad.json', JSON.stringify({ rules: [{ type: 'mock', filter: '~u /', status: 600 }], extra: 1 }));
    const r = await runCli(['config', 'check', p]);
    expect(r.code).toBe(2);
    const [head, ...problems] = r.stderr.trimEnd().split('\n');
    expect(head).toBe(`${p}: 2 problems`);
    expect(problems.sort()).toEqual(['  extra: unknown key', '  rules[0].status: expected a number between 100 and 599']);
  });

  it('a file that is not YAML at all is one problem, exit 2', async () => {
    const p = await file('broken.yaml', 'listen: { port: 8080\n');
    const r = await runCli(['config', 'check', p]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^${escape(p)}: 1 problem\\n {2}${escape(p)}: not valid YAML or JSON: `));
  });

  it('an unreadable (missing) file: a message and exit 2', async () => {
    const p = join(dir, 'missing.yaml');
    const r = await runCli(['config', 'check', p]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`proxyctl: ${p}: cannot read: no such file\n`);
  });

  it('a missing map-local directory is a warning (exit 0); a missing htpasswd file is an error (exit 2)', async () => {
    const warn = await file('warn.yaml', 'rules:\n  - { type: block, filter: "~d a" }\n  - { type: map-local, filter: "~u /s", path: ./static }\n');
    const w = await runCli(['config', 'check', warn]);
    expect(w.code, w.stderr).toBe(0);
    expect(w.stderr).toBe('warning: rules[1].path: no such file or directory ./static\n');
    expect(w.stdout).toMatch(new RegExp(`^${escape(warn)}: ok \\(2 rules\\)`));

    const err = await file('err.yaml', 'proxyAuth: { htpasswd: ./users.htpasswd }\n');
    const e = await runCli(['config', 'check', err]);
    expect(e.code).toBe(2);
    expect(e.stderr).toBe(`${err}: 1 problem\n  proxyAuth.htpasswd: no such file or directory ./users.htpasswd\n`);
  });

  it('--json prints { ok, problems, warnings } on stdout with the same exit codes', async () => {
    const good = await file('json-good.yaml', 'rules:\n  - { type: map-local, filter: "~u /s", path: ./nowhere }\n');
    const g = await runCli(['config', 'check', '--json', good]);
    expect(g.code, g.stderr).toBe(0);
    expect(JSON.parse(g.stdout)).toEqual({ ok: true, problems: [], warnings: ['rules[0].path: no such file or directory ./nowhere'] });
    expect(g.stderr).toBe('');

    const bad = await file('json-bad.yaml', 'rules:\n  - { type: mock, filter: "~u /", status: 42 }\n');
    const b = await runCli(['config', 'check', bad, '--json']);
    expect(b.code).toBe(2);
    expect(JSON.parse(b.stdout)).toEqual({ ok: false, problems: ['rules[0].status: expected a number between 100 and 599'], warnings: [] });
    expect(b.stderr).toBe('');

    const m = await runCli(['config', 'check', '--json', join(dir, 'missing.yaml')]);
    expect(m.code).toBe(2);
    expect(JSON.parse(m.stdout)).toMatchObject({ ok: false, warnings: [] });
  });

  it('checks the mode as start would: reverse without backends is a problem, routes to groups are fine', async () => {
    const bad = await file('reverse-bad.yaml', 'mode: reverse\n');
    const b = await runCli(['config', 'check', bad]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/mode: reverse mode needs backends/);

    const good = await file(
      'reverse-good.yaml',
      `mode: reverse
reverse:
  groups: { api: { backends: [ { url: "http://127.0.0.1:3001" } ] } }
  routes: [ { host: api.local, group: api } ]
`,
    );
    const g = await runCli(['config', 'check', good]);
    expect(g.code).toBe(0);
    expect(g.stdout).toMatch(/mode reverse; reverse: 0 backends, 1 group, 1 routes/);
  });

  it('no FILE is a usage error (exit 2)', async () => {
    const r = await runCli(['config', 'check']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing required argument 'file'/);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
