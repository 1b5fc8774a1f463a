/**
 * The recorder's `kill -9` contract under concurrent load (issue 9): lines are written once per
 * event-loop turn now, many flows at a time, and still every flow whose access-log line was
 * printed is in the session after `kill -9`, body included.
 * Spawns the BUILT CLI: run `npm run build` first (`npm test` does).
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Flow } from '../../src/proxy/core/flow.js';
import { readSessionFlows } from '../../src/store/session-reader.js';
import { killAll, startCli } from '../helpers/cli.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { makeTempHome, type TempHome } from '../helpers/test-ca.js';

describe('session durability under load (real CLI)', () => {
  const origins: Origin[] = [];
  const homes: TempHome[] = [];
  const agents: http.Agent[] = [];

  afterEach(async () => {
    for (const a of agents.splice(0)) a.destroy();
    await killAll();
    await Promise.all(origins.splice(0).map((o) => o.close()));
    await Promise.all(homes.splice(0).map((h) => h.cleanup()));
  });

  it('kill -9 in the middle of concurrent traffic: every flow with a printed access line is in the session', { timeout: 60_000 }, async () => {
    const origin = await startOrigin();
    origins.push(origin);
    const h = await makeTempHome();
    homes.push(h);
    const cli = await startCli(['--session', 'load'], { home: h.home });
    const proxy = new URL(cli.url);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
    agents.push(agent);

    // 20 connections in a closed loop, each request with its own number, until the proxy dies.
    const TOTAL = 3000;
    let next = 0;
    const one = (n: number) =>
      new Promise<void>((resolve) => {
        const req = http.request({ host: proxy.hostname, port: Number(proxy.port), agent, path: `${origin.url}/hello?n=${n}`, headers: { host: new URL(origin.url).host } }, (res) => {
          res.resume();
          res.on('end', () => resolve());
          res.on('error', () => resolve());
        });
        req.on('error', () => resolve()); // the proxy was killed under it
        req.setTimeout(10_000, () => req.destroy());
        req.end();
      });
    let killed = false;
    const worker = async () => {
      while (!killed && next < TOTAL) await one(next++);
    };
    const workers = Array.from({ length: 20 }, () => worker());

    // Kill while traffic flows: after a good number of printed lines, well before the end.
    await cli.waitForLine(/hello\?n=\d+ 200 /, 20_000, 400);
    cli.child.kill('SIGKILL');
    killed = true;
    const exit = await cli.exited;
    expect(exit.signal).toBe('SIGKILL');
    // Every byte the proxy printed before it died is read (stdout closes after the exit).
    const out = cli.child.stdout!;
    if (!out.closed) await new Promise<void>((r) => out.once('close', () => r()));
    await Promise.all(workers);

    const printed = cli.lines.map((l) => /hello\?n=(\d+) 200 /.exec(l)?.[1]).filter((n): n is string => n !== undefined);
    expect(printed.length).toBeGreaterThan(400);
    expect(printed.length).toBeLessThan(TOTAL); // killed mid-traffic, not after it

    // A line torn by the kill is skipped with a warning; nothing else may be wrong.
    const warnings: string[] = [];
    const flows = await readSessionFlows(h.home, 'load', { onWarning: (m) => warnings.push(m) });
    expect(warnings.filter((w) => !/torn last line/.test(w))).toEqual([]);
    const recorded = new Map(flows.map((f: Flow) => [new URL(`http://x${f.request.path}`).searchParams.get('n'), f]));
    const missing = printed.filter((n) => !recorded.has(n));
    expect(missing).toEqual([]);
    for (const n of printed) {
      const f = recorded.get(n)!;
      expect(f.phase).toBe('done');
      expect(f.response?.status).toBe(200);
      expect(f.response?.body.bytes?.toString()).toBe('hello');
    }
  });
});
