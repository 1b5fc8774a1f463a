import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/proxy/bus.js';
import type { Flow } from '../../../src/proxy/core/flow.js';
import { SessionRecorder } from '../../../src/store/recorder.js';
import { storedFlowSchema } from '../../../src/store/schemas.js';
import { SessionError } from '../../../src/store/session-errors.js';
import { blobsDir, defaultSessionName, flowsLogPath, sessionDir } from '../../../src/store/session-paths.js';
import { readSessionFlows } from '../../../src/store/session-reader.js';
import { SettingsStore } from '../../../src/store/settings.js';
import { body, makeFlow } from '../../helpers/make-flow.js';
import { sha256Hex } from '../../../src/store/session-codec.js';

describe('SessionRecorder', () => {
  const dirs: string[] = [];
  const recorders: SessionRecorder[] = [];

  async function home(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), 'proxyctl-rec-'));
    dirs.push(d);
    return d;
  }

  async function open(h: string, name = 's', opts: Parameters<typeof SessionRecorder.open>[2] = {}): Promise<SessionRecorder> {
    const r = await SessionRecorder.open(h, name, { onWarning: () => {}, ...opts });
    recorders.push(r);
    return r;
  }

  afterEach(async () => {
    await Promise.all(recorders.splice(0).map((r) => r.close()));
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  async function lines(h: string, name = 's'): Promise<unknown[]> {
    const text = await readFile(flowsLogPath(sessionDir(h, name)), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    return text.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
  }

  it('writes one schema-valid JSON line per flow, bodies as blobs named by their SHA-256', async () => {
    const h = await home();
    const r = await open(h);
    const flow = makeFlow({ request: { method: 'POST', body: body('{"a":1}') }, response: { body: body('hello') } });
    r.record(flow);
    const [line] = await lines(h);
    const rec = storedFlowSchema.parse(line);
    expect(rec.id).toBe(flow.id);
    expect(rec.request.body).toEqual({ size: 7, blob: sha256Hex(Buffer.from('{"a":1}')), captured: 7, truncated: false, sha256: sha256Hex(Buffer.from('{"a":1}')), state: 'complete' });
    expect(rec.response!.body.blob).toBe(sha256Hex(Buffer.from('hello')));
    // No body bytes in the line itself.
    expect(JSON.stringify(line)).not.toContain('hello');
    const blob = await readFile(join(blobsDir(sessionDir(h, 's')), rec.response!.body.blob!), 'utf8');
    expect(blob).toBe('hello');
  });

  it('writes an identical body once (shared blob), and leaves no temporary files', async () => {
    const h = await home();
    const r = await open(h);
    for (let i = 0; i < 3; i++) r.record(makeFlow({ response: { body: body('same body') } }));
    r.record(makeFlow({ request: { method: 'PUT', body: body('same body') }, response: { body: body('other') } }));
    const files = await readdir(blobsDir(sessionDir(h, 's')));
    expect(files.sort()).toEqual([sha256Hex(Buffer.from('same body')), sha256Hex(Buffer.from('other'))].sort());
    expect(await lines(h)).toHaveLength(4);
  });

  it('names a truncated body by the hash of the bytes it kept, and keeps the whole-body hash', async () => {
    const h = await home();
    const r = await open(h);
    r.record(makeFlow({ response: { body: body('0123456789', { limit: 4 }) } }));
    const rec = storedFlowSchema.parse((await lines(h))[0]);
    expect(rec.response!.body).toMatchObject({ size: 10, captured: 4, truncated: true, blob: sha256Hex(Buffer.from('0123')), sha256: sha256Hex(Buffer.from('0123456789')) });
  });

  it('keeps WebSocket messages in the line, payloads in base64', async () => {
    const h = await home();
    const r = await open(h);
    const payload = Buffer.from([0xff, 0x00, 0x41]);
    r.record(
      makeFlow({
        response: { status: 101, body: body('') },
        websocket: { messages: [{ direction: 'client', type: 'binary', size: 3, payload, truncated: false, time: 1_700_000_000_000 }], closeCode: 1000, closedBy: 'client' },
      }),
    );
    const rec = storedFlowSchema.parse((await lines(h))[0]);
    expect(rec.websocket!.messages[0]!.payload).toBe(payload.toString('base64'));
    const [back] = await readSessionFlows(h, 's');
    expect(back!.websocket!.messages[0]!.payload.equals(payload)).toBe(true);
    expect(back!.websocket!.closeCode).toBe(1000);
  });

  it('reads back what it wrote: flows equal to the originals, bodies included', async () => {
    const h = await home();
    const r = await open(h);
    const flows: Flow[] = [
      makeFlow(),
      makeFlow({ request: { scheme: 'https', httpVersion: '2', path: '/x?y=1' }, response: { body: body(Buffer.from([0, 1, 2, 0xfe])) } }),
      makeFlow({ response: null, error: { code: 'UPSTREAM_REFUSED', message: 'connect ECONNREFUSED' }, tags: ['t'] }),
    ];
    for (const f of flows) r.record(f);
    expect(await readSessionFlows(h, 's')).toEqual(flows);
  });

  it('records flow-end events from the bus, and stops when detached', async () => {
    const h = await home();
    const r = await open(h);
    const bus = new EventBus();
    const off = r.attach(bus);
    const a = makeFlow();
    bus.emit({ type: 'flow-start', flow: a });
    bus.emit({ type: 'flow-end', flow: a });
    off();
    bus.emit({ type: 'flow-end', flow: makeFlow() });
    expect((await readSessionFlows(h, 's')).map((f) => f.id)).toEqual([a.id]);
  });

  it('reports a flow it cannot write on the bus log instead of throwing into the emitter', async () => {
    const h = await home();
    const r = await open(h);
    const bus = new EventBus((err) => {
      throw err;
    });
    r.attach(bus);
    const logs: string[] = [];
    bus.on('log', (e) => logs.push(e.message));
    await r.close();
    bus.emit({ type: 'flow-end', flow: makeFlow() });
    expect(logs[0]).toMatch(/could not record flow .*closed/);
    expect(r.failed).toBe(1);
  });

  it('refuses a session that already has flows unless continued, then appends after them', async () => {
    const h = await home();
    const first = await open(h, 'again');
    first.record(makeFlow());
    await first.close();
    await expect(SessionRecorder.open(h, 'again', { onWarning: () => {} })).rejects.toMatchObject({ code: 'EXISTS' });
    const second = await open(h, 'again', { continue: true });
    expect(second.flows).toBe(1);
    second.record(makeFlow());
    expect(await lines(h, 'again')).toHaveLength(2);
  });

  it('continuing cuts a torn last line so the next line starts on its own', async () => {
    const h = await home();
    const r = await open(h, 'torn');
    r.record(makeFlow());
    await r.close();
    await appendFile(flowsLogPath(sessionDir(h, 'torn')), '{"v":1,"id":"half');
    const warnings: string[] = [];
    const again = await open(h, 'torn', { continue: true, onWarning: (m) => warnings.push(m) });
    expect(warnings[0]).toMatch(/cut a torn last line \(17 bytes\)/);
    again.record(makeFlow());
    expect(await lines(h, 'torn')).toHaveLength(2);
  });

  it('continuing keeps a last line that only lost its newline', async () => {
    const h = await home();
    const r = await open(h, 'nl');
    r.record(makeFlow());
    await r.close();
    const log = flowsLogPath(sessionDir(h, 'nl'));
    await writeFile(log, (await readFile(log, 'utf8')).trimEnd());
    const again = await open(h, 'nl', { continue: true });
    expect(again.flows).toBe(1);
    again.record(makeFlow());
    expect(await lines(h, 'nl')).toHaveLength(2);
  });

  it('refuses names that are not a plain path segment', async () => {
    const h = await home();
    for (const bad of ['../x', 'a/b', '', '.hidden', 'x'.repeat(101)]) {
      await expect(SessionRecorder.open(h, bad)).rejects.toBeInstanceOf(SessionError);
    }
  });

  it('keeps the session index in settings.json: created on open, counts debounced, exact on close', async () => {
    const h = await home();
    const settings = await SettingsStore.open(h);
    const r = await open(h, 'idx', { settings, indexIntervalMs: 60_000, now: () => new Date('2026-11-22T00:50:12Z') });
    expect((await SettingsStore.open(h)).settings.sessions['idx']).toMatchObject({ name: 'idx', created: '2026-11-22T00:50:12.000Z', flowCount: 0 });
    r.record(makeFlow({ response: { body: body('abc') } }));
    r.record(makeFlow({ response: { body: body('abc') } }));
    // Debounced: nothing written yet within the interval.
    expect((await SettingsStore.open(h)).settings.sessions['idx']!.flowCount).toBe(0);
    await r.close();
    const entry = (await SettingsStore.open(h)).settings.sessions['idx']!;
    const logSize = (await readFile(flowsLogPath(sessionDir(h, 'idx')))).length;
    expect(entry).toEqual({ name: 'idx', created: '2026-11-22T00:50:12.000Z', flowCount: 2, bytes: logSize + 3, logBytes: logSize });
  });

  it('writes the index at most once per interval while recording', async () => {
    const h = await home();
    const r = await open(h, 'tick', { indexIntervalMs: 20 });
    r.record(makeFlow());
    await new Promise((res) => setTimeout(res, 80));
    expect((await SettingsStore.open(h)).settings.sessions['tick']!.flowCount).toBe(1);
  });

  it('names default sessions after the local time', () => {
    expect(defaultSessionName(new Date(2026, 10, 22, 0, 50, 12))).toBe('2026-11-22_00-50-12');
  });
});

describe('SessionRecorder body states', () => {
  it('keeps "passed but not kept" (bytes null, size known) apart from an empty body', async () => {
    const h = await mkdtemp(join(tmpdir(), 'proxyctl-rec-'));
    try {
      const r = await SessionRecorder.open(h, 's', { onWarning: () => {} });
      const notKept = makeFlow({ response: { body: { size: 5, bytes: null, truncated: false, sha256: null, state: 'complete' } } });
      const empty = makeFlow({ response: { body: body('') } });
      const capLimit0 = makeFlow({ response: { body: body('abc', { limit: 0 }) } });
      for (const f of [notKept, empty, capLimit0]) r.record(f);
      await r.close();
      const back = await readSessionFlows(h, 's');
      expect(back.map((f) => f.response!.body.bytes?.length ?? null)).toEqual([null, 0, 0]);
      expect(back).toEqual([notKept, empty, capLimit0]);
    } finally {
      await rm(h, { recursive: true, force: true });
    }
  });
});
