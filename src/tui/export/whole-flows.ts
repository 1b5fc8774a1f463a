import type { Flow } from '../../proxy/core/flow.js';
import { isInSession, needsBodies } from '../../store/session-bodies.js';

/** Reads one flow whole, bodies included (the store snapshot's `read`). */
export type ReadFlow = (seq: number) => Promise<Flow | undefined>;

/** What an export reads: the flows of its scope, by sequence, in list order. */
export interface ScopePlan {
  /** Sequences in scope, ascending (the list's order). */
  seqs: readonly number[];
  /**
   * Tested on every flow read back; a flow that fails it is left out. The marked scope has to
   * read the older rows the list never showed to learn whether they are marked.
   */
  keep: ((flow: Flow) => boolean) | null;
  /**
   * With `keep`: the sequences known to be in scope before reading (the marks the list shows). One
   * outside it that cannot be read was never known to be in scope, so it is not reported missing.
   */
  known?: ReadonlySet<number>;
}

/** What reading the flows back came to, for the export's closing message. */
export interface ReadBackStats {
  /** Sequences that gave no flow: cleared meanwhile, or their line in the session is unreadable. */
  missing: number;
  /** Flows exported without a body whose bytes could not be read back from the session. */
  withoutBodies: number;
}

export interface WholeFlowsOptions {
  /** Reads in flight at once. @default 6 */
  window?: number;
  /** After each sequence: how many of `plan.seqs` have been read. */
  onProgress?(done: number, total: number): void;
}

/**
 * Reads at once: enough to keep the disk busy while flows are parsed, and fewer than the bodies
 * the store keeps read back (8, session-rows.ts), so a flow's bodies are rarely pushed out of that
 * cache by its neighbours before its own read picks them up.
 */
const DEFAULT_WINDOW = 6;

/**
 * The flows of `plan` whole, in order, read a few at a time (issue 7). The store keeps only the
 * newest flows in memory and lets go of body bytes; an export must still write every flow in scope
 * with its bodies, so each is read through `read`, which reads older rows and let-go bodies back
 * from the session off the event loop. Between reads the event loop runs (keys, traffic, renders),
 * and only `window` flows are held here at a time, so a consumer that writes as it goes never
 * holds the whole export.
 */
export async function* wholeFlows(plan: ScopePlan, read: ReadFlow, stats: ReadBackStats, opts: WholeFlowsOptions = {}): AsyncGenerator<Flow> {
  const window = Math.max(1, opts.window ?? DEFAULT_WINDOW);
  const total = plan.seqs.length;
  const inFlight: Array<Promise<Flow | undefined>> = [];
  let next = 0;
  const fill = () => {
    while (next < total && inFlight.length < window) inFlight.push(readWhole(read, plan.seqs[next++]!));
  };
  fill();
  for (let done = 1; done <= total; done++) {
    const flow = await inFlight.shift()!;
    fill();
    opts.onProgress?.(done, total);
    if (!flow) {
      if (!plan.keep || !plan.known || plan.known.has(plan.seqs[done - 1]!)) stats.missing++;
      continue;
    }
    if (plan.keep && !plan.keep(flow)) continue;
    if (hasUnreadBody(flow)) stats.withoutBodies++;
    yield flow;
  }
}

/**
 * One flow whole; never rejects (the window holds several promises, and one that rejected while an
 * earlier one is awaited would be an unhandled rejection).
 */
async function readWhole(read: ReadFlow, seq: number): Promise<Flow | undefined> {
  try {
    const flow = await read(seq);
    // Its bodies were read back but pushed out of the store's small cache by the reads beside it
    // before this read took them: one more read, alone by then, brings them back.
    return flow && needsBodies(flow) ? ((await read(seq)) ?? flow) : flow;
  } catch {
    // The store reports unreadable lines as undefined; anything thrown counts the same (missing).
    return undefined;
  }
}

/** A body still marked as kept in the session after the read: its bytes could not be read back. */
function hasUnreadBody(flow: Flow): boolean {
  return isInSession(flow.request.body) || (flow.response !== null && isInSession(flow.response.body));
}
