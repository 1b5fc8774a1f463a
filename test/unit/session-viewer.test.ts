/** The read-only command API behind `proxyctl open` (src/session-viewer.ts), with a stub sender. */
import { afterEach, describe, expect, it } from 'vitest';
import type { ProxyCommand } from '../../src/proxy/core/commands.js';
import { ProxyError } from '../../src/proxy/core/errors.js';
import type { PlannedRequest } from '../../src/replay/request-plan.js';
import type { Sender } from '../../src/replay/send.js';
import { SessionViewer } from '../../src/session-viewer.js';
import { READ_ONLY_MESSAGE } from '../../src/tui/read-only.js';
import { makeFlow } from '../helpers/make-flow.js';

/** A sender that records requests and answers what `answer` says (after the current turn). */
function stubSender(answer: (req: PlannedRequest) => Promise<{ status: number; body: string }> = async () => ({ status: 200, body: 'hi' })) {
  const sent: PlannedRequest[] = [];
  let closed = 0;
  const sender: Sender = {
    async send(req) {
      sent.push(req);
      const a = await answer(req);
      const body = Buffer.from(a.body);
      return { status: a.status, statusText: 'OK', headers: [['Content-Type', 'text/plain']], body, size: body.length, sha256: 'x' };
    },
    close: () => void closed++,
  };
  return { sender, sent, closed: () => closed };
}

let viewer: SessionViewer | null = null;
afterEach(() => {
  viewer?.close();
  viewer = null;
});

async function open(stub = stubSender()) {
  viewer = new SessionViewer({ sender: stub.sender, storeNotifyMs: 0 });
  const n = await viewer.load([
    makeFlow({ id: 'a', request: { method: 'POST', host: 'api.example', path: '/items', body: { size: 3, bytes: Buffer.from('abc'), truncated: false, sha256: null, state: 'complete' } } }),
    makeFlow({ id: 'ws', websocket: { messages: [] } }),
    makeFlow({ id: 'big', request: { body: { size: 100, bytes: Buffer.alloc(10), truncated: true, sha256: null, state: 'complete' } } }),
  ]);
  return { viewer, stub, n };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('SessionViewer', () => {
  it('loads the recorded flows into its store', async () => {
    const { viewer, n } = await open();
    expect(n).toBe(3);
    expect(viewer.store.list().map((f) => f.id)).toEqual(['a', 'ws', 'big']);
  });

  it.each<ProxyCommand>([
    { type: 'resume', flowId: 'a' },
    { type: 'resume-all' },
    { type: 'kill', flowId: 'a' },
    { type: 'respond', flowId: 'a', response: { status: 200, headers: [], body: Buffer.alloc(0) } },
    { type: 'set-intercept', filter: '~u x', on: ['request'] },
    { type: 'block-host', host: 'x' },
    { type: 'toggle-rule', ruleId: 'r' },
    { type: 'remove-rule', ruleId: 'r' },
    { type: 'set-cache', enabled: true },
    { type: 'set-no-cache', enabled: true },
  ])('refuses $type: no proxy is running', async (command) => {
    const { viewer } = await open();
    expect(await viewer.execute(command)).toEqual({ ok: false, error: READ_ONLY_MESSAGE });
  });

  it('marks flows and clears the view', async () => {
    const { viewer } = await open();
    expect(await viewer.execute({ type: 'mark', flowId: 'a', marked: true })).toEqual({ ok: true });
    expect(viewer.store.get('a')?.marked).toBe(true);
    expect(await viewer.execute({ type: 'mark', flowId: 'nope', marked: true })).toMatchObject({ ok: false });
    expect(await viewer.execute({ type: 'clear' })).toMatchObject({ ok: true });
    expect(viewer.store.list()).toEqual([]);
  });

  it('replays straight to the origin: a new flow tagged replay-of, answered when the origin answers', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const { viewer, stub } = await open(stubSender(async () => (await gate, { status: 201, body: 'created' })));
    const r = await viewer.execute({ type: 'replay', flowId: 'a' });
    expect(r).toMatchObject({ ok: true, message: 'replaying POST http://api.example/items' });
    const id = (r as { flowId: string }).flowId;
    expect(stub.sent).toHaveLength(1);
    expect(stub.sent[0]).toMatchObject({ method: 'POST', scheme: 'http', host: 'api.example', port: 80, path: '/items' });
    expect(stub.sent[0]!.body.toString()).toBe('abc');
    let replayed = viewer.store.get(id)!;
    expect(replayed).toMatchObject({ phase: 'waiting', tags: ['replay-of:a'], response: null });
    release();
    await settle();
    await settle();
    replayed = viewer.store.get(id)!;
    expect(replayed.phase).toBe('done');
    expect(replayed.response?.status).toBe(201);
    expect(replayed.response?.body.bytes?.toString()).toBe('created');
    expect(viewer.store.getSnapshot().log.at(-1)?.message).toBe('replay of a: POST http://api.example/items → 201');
  });

  it('a failed replay puts the error code on the new flow', async () => {
    const { viewer } = await open(stubSender(async () => Promise.reject(new ProxyError('UPSTREAM_DNS', 'no such host'))));
    const r = await viewer.execute({ type: 'replay', flowId: 'a' });
    await settle();
    const replayed = viewer.store.get((r as { flowId: string }).flowId)!;
    expect(replayed.phase).toBe('error');
    expect(replayed.error).toEqual({ code: 'UPSTREAM_DNS', message: 'no such host' });
  });

  it('replays an edited copy (D)', async () => {
    const { viewer, stub } = await open();
    const r = await viewer.execute({ type: 'replay', flowId: 'a', request: { method: 'PUT', url: 'https://other.example:8443/x', body: Buffer.from('edited') } });
    expect(r).toMatchObject({ ok: true, message: 'replaying PUT https://other.example:8443/x' });
    expect(stub.sent[0]).toMatchObject({ method: 'PUT', scheme: 'https', host: 'other.example', port: 8443, path: '/x' });
    expect(stub.sent[0]!.body.toString()).toBe('edited');
    expect(await viewer.execute({ type: 'replay', flowId: 'a', request: { url: 'not a url' } })).toMatchObject({ ok: false });
  });

  it.each([
    ['ws', /websocket/],
    ['big', /recorded only in part/],
    ['nope', /no flow nope/],
  ])('refuses to replay %s', async (id, why) => {
    const { viewer, stub } = await open();
    const r = await viewer.execute({ type: 'replay', flowId: id });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(why);
    expect(stub.sent).toEqual([]);
  });

  it('close ends the sender', async () => {
    const { viewer, stub } = await open();
    viewer.close();
    expect(stub.closed()).toBe(1);
  });
});
