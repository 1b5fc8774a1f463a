import type { Flow, FlowKind } from '../proxy/core/flow.js';
import { CACHE_OUTCOMES, cacheOutcome, METHOD_LABELS, methodIndex, REFUSAL_TAGS, STATUS_CLASSES, statusClassIndex, type CacheOutcome } from './flow-facts.js';

export const FLOW_KINDS: readonly FlowKind[] = ['http', 'websocket', 'tunnel'];
const KIND_INDEX: Record<FlowKind, number> = { http: 0, websocket: 1, tunnel: 2 };
const CACHE_INDEX: Record<CacheOutcome, number> = { hit: 0, stale: 1, revalidated: 2, miss: 3 };

/**
 * The counts behind the counter families, as plain numbers in preallocated arrays: recording a
 * flow is a few array increments, with no label objects and no hashing. prom-client reads them
 * only when /metrics is scraped (measured: a labelled prom-client `inc` costs about a microsecond,
 * so counting through it directly cost several per flow).
 */
export class TrafficTally {
  /** Finished flows, indexed `method * STATUS_CLASSES.length + statusClass`. */
  readonly requests = new Float64Array(METHOD_LABELS.length * STATUS_CLASSES.length);
  /** Body bytes from clients, by FLOW_KINDS index. */
  readonly received = new Float64Array(FLOW_KINDS.length);
  /** Body bytes to clients, by FLOW_KINDS index. */
  readonly sent = new Float64Array(FLOW_KINDS.length);
  /** By CACHE_OUTCOMES index. */
  readonly cache = new Float64Array(CACHE_OUTCOMES.length);
  blocked = 0;
  authFailures = 0;
  rateLimited = 0;
  finished = 0;

  /** Count a finished flow. `cacheActive`: the response cache is on now (see cacheOutcome). */
  record(flow: Flow, cacheActive: boolean): void {
    this.finished++;
    this.requests[methodIndex(flow.request.method) * STATUS_CLASSES.length + statusClassIndex(flow.response?.status)]! += 1;
    const kind = KIND_INDEX[flow.kind];
    this.received[kind]! += flow.request.body.size;
    this.sent[kind]! += flow.response?.body.size ?? 0;
    for (const tag of flow.tags) {
      if (tag === REFUSAL_TAGS.blocked) this.blocked++;
      else if (tag === REFUSAL_TAGS.authFailed) this.authFailures++;
      else if (tag === REFUSAL_TAGS.rateLimited) this.rateLimited++;
    }
    const outcome = cacheOutcome(flow, cacheActive);
    if (outcome !== null) this.cache[CACHE_INDEX[outcome]]! += 1;
  }

  /** Count a WebSocket message as it passes (a flow keeps only a bounded list of them). */
  recordWsMessage(direction: 'client' | 'server', size: number): void {
    (direction === 'client' ? this.received : this.sent)[KIND_INDEX.websocket]! += size;
  }
}
