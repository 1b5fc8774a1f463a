/**
 * A FlowStore wired to a SessionRecorder over an EventBus exactly as runtime.ts wires them
 * (store on every event, recorder on `flow-end`, the store reading back from the session), in a
 * temporary PROXYCTL_HOME. No network: tests push flows through the bus.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../../../src/proxy/bus.js';
import type { Flow } from '../../../src/proxy/core/flow.js';
import { FlowStore, type FlowStoreOptions } from '../../../src/store/flow-store.js';
import { SessionRecorder } from '../../../src/store/recorder.js';

export interface RecordingStore {
  home: string;
  bus: EventBus;
  store: FlowStore;
  recorder: SessionRecorder;
  /** `sessions/NAME`. */
  dir: string;
  /**
   * Emit a flow's start and, unless it is unfinished, its end (recorded: the recorder's line is
   * written at once, as the end of the event-loop turn would).
   */
  push(flow: Flow): void;
  close(): Promise<void>;
}

export async function recordingStore(opts: FlowStoreOptions = {}, name = 's'): Promise<RecordingStore> {
  const home = await mkdtemp(join(tmpdir(), 'proxyctl-bounded-'));
  const bus = new EventBus((err) => {
    throw err;
  });
  const store = new FlowStore({ notifyIntervalMs: 0, ...opts });
  bus.onAny((e) => store.apply(e));
  const recorder = await SessionRecorder.open(home, name, { onWarning: () => {} });
  const detach = recorder.attach(bus);
  store.useSession(recorder.dir);
  recorder.onRecorded = (flow, at) => store.recorded(flow.id, at);
  return {
    home,
    bus,
    store,
    recorder,
    dir: recorder.dir,
    push(flow) {
      bus.emit({ type: 'flow-start', flow });
      if (flow.phase === 'done' || flow.phase === 'error') {
        bus.emit({ type: 'flow-end', flow });
        recorder.writePending();
      }
    },
    async close() {
      detach();
      await recorder.close();
      store.dispose();
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** Poll (bounded) until `check` holds; background reads finish on the event loop. */
export async function until<T>(check: () => T | undefined | null | false, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
