/**
 * The access-log writer: lines batched into one write per event-loop turn, a file opened for
 * appending (created if missing) and ended on close, an unopenable path refused with its reason,
 * and a stream that fails reported once on the event log without disturbing the proxy.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { AccessLogOpenError, attachAccessLog, openAccessLogFile } from '../../../src/ops/access-log-writer.js';
import { isoTime } from '../../../src/ops/access-log.js';
import { EventBus } from '../../../src/proxy/bus.js';
import type { ProxyEvent } from '../../../src/proxy/core/events.js';
import { makeFlow } from '../../helpers/make-flow.js';

const turn = () => new Promise((r) => setImmediate(r));

describe('access-log writer', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  async function tempDir(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), 'proxyctl-access-writer-'));
    dirs.push(d);
    return d;
  }

  it('writes the lines of one event-loop turn in one write, and nothing after close', async () => {
    const bus = new EventBus();
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString());
        cb();
      },
    });
    const log = attachAccessLog(bus, { stream, owned: false, name: 'test' }, 'json');
    for (const path of ['/a', '/b', '/c']) bus.emit({ type: 'flow-end', flow: makeFlow({ request: { path } }) });
    await turn();
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { url: string }).url)).toEqual(['http://example.com/a', 'http://example.com/b', 'http://example.com/c']);
    bus.emit({ type: 'flow-end', flow: makeFlow({ request: { path: '/d' } }) });
    await log.close(); // flushes what was pending
    bus.emit({ type: 'flow-end', flow: makeFlow({ request: { path: '/e' } }) });
    await turn();
    expect(chunks.join('')).toContain('example.com/d"');
    expect(chunks.join('')).not.toContain('example.com/e"');
    expect(stream.writableEnded).toBe(false); // not ours to end (stdout)
  });

  it('appends to a file, creating it if missing, and ends it on close', async () => {
    const dir = await tempDir();
    const existing = join(dir, 'existing.log');
    await writeFile(existing, 'kept\n');
    for (const path of [existing, join(dir, 'new.log')]) {
      const bus = new EventBus();
      const target = openAccessLogFile(path);
      const log = attachAccessLog(bus, target, 'text');
      bus.emit({ type: 'flow-end', flow: makeFlow() });
      await log.close();
      expect(target.stream.writableFinished).toBe(true);
      const lines = (await readFile(path, 'utf8')).split('\n').filter(Boolean);
      expect(lines.at(-1)).toMatch(/ GET http:\/\/example\.com\/ 200 /);
      expect(lines).toHaveLength(path === existing ? 2 : 1);
    }
  });

  it('refuses a path it cannot open, with the reason', async () => {
    const dir = await tempDir();
    expect(() => openAccessLogFile(join(dir, 'missing', 'x.log'))).toThrow(AccessLogOpenError);
    expect(() => openAccessLogFile(dir)).toThrow(/access log .*: cannot open for appending \(EISDIR\)/);
  });

  it('reports a failing stream once on the event log and stops writing', async () => {
    const bus = new EventBus();
    const logs: Array<Extract<ProxyEvent, { type: 'log' }>> = [];
    bus.on('log', (e) => logs.push(e));
    let writes = 0;
    const stream = new Writable({
      write(_chunk, _enc, cb) {
        writes++;
        cb(new Error('ENOSPC: no space left on device'));
      },
    });
    const log = attachAccessLog(bus, { stream, owned: true, name: '/full/disk.log' }, 'text');
    bus.emit({ type: 'flow-end', flow: makeFlow() });
    await turn();
    await turn();
    bus.emit({ type: 'flow-end', flow: makeFlow() });
    await turn();
    await log.close();
    expect(writes).toBe(1);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ level: 'error' });
    expect(logs[0]!.message).toContain('access log /full/disk.log: ENOSPC');
  });
});

describe('isoTime', () => {
  it('writes exactly what Date#toISOString writes, across seconds, days and odd times', () => {
    const base = Date.UTC(2026, 10, 22, 23, 59, 58, 990);
    const times = [0, 1, 999, 1000, 1001, -1, -1500, 253402300799999, 253402300800000, 1.5, base];
    for (let i = 0; i < 3000; i += 7) times.push(base + i);
    for (const t of times) expect(isoTime(t)).toBe(new Date(t).toISOString());
  });
});
