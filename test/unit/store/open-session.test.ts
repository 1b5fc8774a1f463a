/**
 * `proxyctl open` on a session longer than the store holds (issue 7): SessionViewer indexes the log
 * (offsets only) and reads rows and bodies on demand; marks, replay and clear work on flows that
 * were never loaded. The sender is a stub (replay's network side is tested in session-viewer.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PlannedRequest } from '../../../src/replay/request-plan.js';
import type { Sender } from '../../../src/replay/send.js';
import { SessionViewer } from '../../../src/session-viewer.js';
import { isInSession } from '../../../src/store/session-bodies.js';
import { body, makeFlow } from '../../helpers/make-flow.js';
import { recordingStore, until, type RecordingStore } from './recording-store.js';

let rs: RecordingStore | null = null;
let viewer: SessionViewer | null = null;
afterEach(async () => {
  viewer?.close();
  viewer = null;
  await rs?.close();
  rs = null;
});

function stubSender(): { sender: Sender; sent: PlannedRequest[] } {
  const sent: PlannedRequest[] = [];
  return {
    sent,
    sender: {
      async send(req) {
        sent.push(req);
        return { status: 200, statusText: 'OK', headers: [], body: Buffer.from('ok'), size: 2, sha256: 'x' };
      },
      close: () => {},
    },
  };
}

/** A recorded session of `n` POSTs to /n/i whose request body is `payload i`. */
async function session(n: number): Promise<RecordingStore> {
  rs = await recordingStore({ maxFlows: 50 });
  for (let i = 0; i < n; i++) {
    rs.push(makeFlow({ id: `s${String(i).padStart(5, '0')}`, request: { method: 'POST', host: 'api.example', path: `/n/${i}`, body: body(`payload ${i}`) }, response: { body: body(`answer ${i}`) } }));
  }
  await rs.recorder.flush();
  return rs;
}

describe('SessionViewer.loadSession', () => {
  it('holds none of a session bigger than maxFlows, shows all, reads rows on demand', async () => {
    const t = await session(500);
    const stub = stubSender();
    viewer = new SessionViewer({ maxFlows: 20, storeNotifyMs: 0, sender: stub.sender });
    expect(await viewer.loadSession(t.dir)).toBe(500);
    const store = viewer.store;
    expect(store.getSnapshot().count).toBe(500);
    expect(store.getSnapshot().held).toBe(0);
    expect(store.list()).toEqual([]);
    const row = await until(() => store.getSnapshot().at(123), 'row 123');
    expect(row.request.path).toBe('/n/123');
    expect(isInSession(row.request.body)).toBe(true);

    // Mark a flow that was never held.
    expect(await viewer.execute({ type: 'mark', flowId: 's00007', marked: true })).toEqual({ ok: true });
    expect((await until(() => store.getSnapshot().at(7), 'row 7')).marked).toBe(true);

    // Replay it: the request body is read back from its blob.
    const r = await viewer.execute({ type: 'replay', flowId: 's00007' });
    expect(r).toMatchObject({ ok: true, message: 'replaying POST http://api.example/n/7' });
    expect(stub.sent[0]!.body.toString()).toBe('payload 7');
    // The replay is a new flow after the recorded ones.
    expect(store.getSnapshot().count).toBe(501);
    expect(store.list().map((f) => f.tags)).toEqual([['replay-of:s00007']]);

    expect(await viewer.execute({ type: 'clear' })).toMatchObject({ ok: true });
    expect(store.getSnapshot().count).toBe(0);
  });
});
