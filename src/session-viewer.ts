/**
 * A recorded session in the TUI without a proxy (`proxyctl open`, issue 7): the session's log is
 * indexed (byte offsets only) into an ordinary FlowStore, which reads the rows in view and the
 * bodies of an opened flow back on demand, so a 200,000-flow session is never held in memory
 * (a HAR file, parsed whole anyway, is loaded into the store instead). This small command API
 * answers the TUI. Marks, clearing the view
 * and replay work; replay sends the request straight to its origin (src/replay/send.ts, as
 * `proxyctl replay` does) and shows the answer as a new flow tagged `replay-of:ID`. Everything that
 * needs a running proxy (pauses, intercept, rules, cache toggles) is refused with one message.
 */
import { performance } from 'node:perf_hooks';
import type { CommandApi, CommandResult, ProxyCommand, RequestEdit } from './proxy/core/commands.js';
import { assertNever } from './proxy/core/assert-never.js';
import { applyRequestEdit, EditError } from './proxy/core/edits.js';
import { classifyUpstreamError } from './proxy/core/errors.js';
import { emptyBody, type BodyCapture, type Flow, type FlowResponse } from './proxy/core/flow.js';
import { createIdGenerator } from './proxy/core/ids.js';
import type { LogLevel } from './proxy/core/events.js';
import type { ReplayedResponse } from './replay/compare.js';
import { planReplay, type Plan } from './replay/request-plan.js';
import { createSender, defaultSendOptions, type Sender } from './replay/send.js';
import { FlowStore } from './store/flow-store.js';
import type { RuleEntry } from './store/rule-list.js';
import type { ToggleState } from './store/toggles.js';
import { sha256Hex } from './store/session-codec.js';
import { READ_ONLY_MESSAGE } from './tui/read-only.js';

export interface SessionViewerOptions {
  /** Flows kept in memory (replays, and a HAR file's flows); a longer HAR keeps its newest. @default 20000 */
  maxFlows?: number;
  /** Captured body bytes held in memory (see FlowStoreOptions). @default 268435456 */
  storeMaxBodyBytes?: number;
  /** Response body bytes kept on a replayed flow (DESIGN.md §4's capture limit). @default 4194304 */
  maxBodyBytes?: number;
  /** Sends replays; tests pass a stub. @default a sender straight to the origin (src/replay/send.ts) */
  sender?: Sender;
  /** Store notification window in ms; 0 for synchronous (tests). @default 50 */
  storeNotifyMs?: number;
}

/** What the TUI's status bar and rules pane read: nothing changes in a read-only session. */
const TOGGLES: ToggleState = { cache: false, noCache: false, intercept: null };
const NO_RULES: readonly RuleEntry[] = [];
const never = () => () => {};

/**
 * A stand-in for a response that was never recorded: `planReplay` is written for `proxyctl
 * replay`, which compares answers and so skips flows without one. Here the new answer is only
 * shown, so a request that failed (or was blocked or mocked) when recorded can be sent again.
 */
const NO_RECORDED_RESPONSE: FlowResponse = { status: 200, statusText: '', httpVersion: '1.1', headers: [], trailers: null, body: emptyBody() };

export class SessionViewer implements CommandApi {
  readonly store: FlowStore;
  readonly commands: CommandApi = this;
  readonly toggles = { subscribe: never, getSnapshot: () => TOGGLES };
  readonly rules = { subscribe: never, getSnapshot: () => NO_RULES };
  private readonly sender: Sender;
  private readonly nextId = createIdGenerator();
  private readonly maxBodyBytes: number;

  constructor(opts: SessionViewerOptions = {}) {
    this.store = new FlowStore({
      maxFlows: opts.maxFlows ?? 20000,
      notifyIntervalMs: opts.storeNotifyMs ?? 50,
      ...(opts.storeMaxBodyBytes !== undefined ? { maxBodyBytes: opts.storeMaxBodyBytes } : {}),
    });
    this.maxBodyBytes = opts.maxBodyBytes ?? 4 * 1024 * 1024;
    this.sender = opts.sender ?? createSender({ ...defaultSendOptions, maxBodyBytes: this.maxBodyBytes });
  }

  /** Put the recorded flows into the store, in recorded order; returns how many were read. */
  async load(flows: AsyncIterable<Flow> | Iterable<Flow>): Promise<number> {
    let n = 0;
    for await (const flow of flows) {
      this.store.add(flow);
      n++;
    }
    this.store.flush();
    return n;
  }

  /**
   * Show the session in `dir` without loading it: its log is indexed (offsets and id hashes, 16
   * bytes a flow) and rows are read as the list shows them. Returns the flows indexed. A torn last
   * line (a recorder killed mid-write) is skipped with a warning in the event log.
   */
  async loadSession(dir: string, opts: { onWarning?: (message: string) => void } = {}): Promise<number> {
    this.store.useSession(dir);
    const n = await this.store.indexSession({ onWarning: opts.onWarning ?? ((m) => this.log('warn', m)) });
    this.store.flush();
    return n;
  }

  /** End the replay connections and the store's timers. */
  close(): void {
    this.sender.close();
    this.store.dispose();
  }

  async execute(command: ProxyCommand): Promise<CommandResult> {
    switch (command.type) {
      case 'mark':
        return this.store.update(command.flowId, (f) => ({ ...f, marked: command.marked })) ? { ok: true } : { ok: false, error: `no flow ${command.flowId}` };
      case 'clear':
        this.store.clear();
        return { ok: true, message: 'view cleared (the recorded session is unchanged)' };
      case 'replay':
        return this.replay(command.flowId, command.request);
      case 'resume':
      case 'resume-all':
      case 'kill':
      case 'respond':
      case 'set-intercept':
      case 'block-host':
      case 'toggle-rule':
      case 'remove-rule':
      case 'set-cache':
      case 'set-no-cache':
        return { ok: false, error: READ_ONLY_MESSAGE };
      default:
        return assertNever(command, 'command');
    }
  }

  /** A line for the event log. */
  log(level: LogLevel, message: string, flowId?: string): void {
    this.store.apply(flowId === undefined ? { type: 'log', level, message, time: Date.now() } : { type: 'log', level, message, flowId, time: Date.now() });
  }

  private replay(flowId: string, edit: RequestEdit | undefined): CommandResult {
    const recorded = this.store.get(flowId);
    if (!recorded) return { ok: false, error: `no flow ${flowId}` };
    let source = recorded;
    if (edit) {
      try {
        const { request, body } = applyRequestEdit(recorded.request, edit, recorded.request.body.bytes ?? Buffer.alloc(0));
        source = { ...recorded, request: { ...request, body: capture(body, body.length, this.maxBodyBytes) } };
      } catch (err) {
        if (err instanceof EditError) return { ok: false, error: err.message };
        throw err;
      }
    }
    const plan = planDirect(source);
    if (!plan.ok) return { ok: false, error: `cannot replay: ${plan.reason}` };
    const req = plan.request;
    const id = this.nextId();
    const t0 = performance.now();
    const pending: Flow = {
      id,
      kind: 'http',
      phase: 'waiting',
      // Sent by proxyctl itself, from this machine.
      client: { address: '127.0.0.1', port: 0, tlsVersion: null, sni: null, alpn: null },
      server: { host: req.host, port: req.port, address: null, tlsVersion: null, alpn: null, certificate: null },
      request: { method: req.method, scheme: req.scheme, host: req.host, port: req.port, path: req.path, httpVersion: '1.1', headers: req.headers, trailers: null, body: capture(req.body, req.body.length, this.maxBodyBytes) },
      response: null,
      timings: { start: Date.now(), requestHeaders: 0, requestEnd: 0, upstreamConnect: null, upstreamTls: null, upstreamSent: 0, firstByte: null, responseEnd: null },
      error: null,
      tags: [`replay-of:${recorded.id}`],
      marked: false,
      websocket: null,
    };
    this.store.add(pending);
    this.sender.send(req).then(
      (res) => {
        const ms = performance.now() - t0;
        this.store.update(id, (f) => ({ ...f, phase: 'done', response: responseOf(res, this.maxBodyBytes), timings: { ...f.timings, firstByte: ms, responseEnd: ms } }));
        this.log('info', `replay of ${recorded.id}: ${req.method} ${req.url} → ${res.status}`, id);
      },
      (err: unknown) => {
        const e = classifyUpstreamError(err);
        const ms = performance.now() - t0;
        this.store.update(id, (f) => ({ ...f, phase: 'error', error: { code: e.code, message: e.message }, timings: { ...f.timings, responseEnd: ms } }));
        this.log('warn', `replay of ${recorded.id} failed: ${e.code}: ${e.message}`, id);
      },
    );
    return { ok: true, message: `replaying ${req.method} ${req.url}`, flowId: id };
  }
}

function planDirect(flow: Flow): Plan {
  return planReplay({ ...flow, error: null, tags: [], response: flow.response ?? NO_RECORDED_RESPONSE }, null);
}

function capture(bytes: Buffer, size: number, limit: number): BodyCapture {
  if (size === 0) return emptyBody();
  const truncated = bytes.length > limit || size > bytes.length;
  return { size, bytes: bytes.length > limit ? bytes.subarray(0, limit) : bytes, truncated, sha256: truncated ? null : sha256Hex(bytes), state: 'complete' };
}

function responseOf(res: ReplayedResponse, limit: number): FlowResponse {
  // Over the sender's limit only the size and digest arrive (`body` null).
  const body: BodyCapture =
    res.body === null
      ? { size: res.size, bytes: Buffer.alloc(0), truncated: true, sha256: res.sha256, state: 'complete' }
      : { ...capture(res.body, res.size, limit), sha256: res.sha256 };
  return { status: res.status, statusText: res.statusText, httpVersion: '1.1', headers: res.headers, trailers: null, body };
}
