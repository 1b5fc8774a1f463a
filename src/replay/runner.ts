/**
 * Client replay of a recording: for each selected flow, in recorded order, send its request again
 * and compare the answer with the recorded one. One request at a time, because recorded traffic
 * often depends on its order (create, then read). The sending itself is injected (`send.ts` in
 * the CLI, a stub in unit tests).
 */
import { performance } from 'node:perf_hooks';
import { flowUrl, type Flow } from '../proxy/core/flow.js';
import { classifyUpstreamError } from '../proxy/core/errors.js';
import { compareResponse, type ReplayedResponse } from './compare.js';
import { addToSummary, bodyDiffers, emptySummary, type ReplayResult, type ReplaySummary } from './report.js';
import { planReplay, type PlannedRequest, type ReplayTarget } from './request-plan.js';

export interface ReplayRunOptions {
  /** Send to this origin instead of the recorded one. */
  target: ReplayTarget | null;
  /** Which recorded flows to replay (the `--filter` predicate); all when omitted. */
  select?: (flow: Flow) => boolean;
  /** Called with each result as soon as it is known (the CLI prints a line). */
  onResult?: (result: ReplayResult) => void;
}

export interface ReplayRun {
  summary: ReplaySummary;
  /** Flows in the recording. */
  total: number;
  /** Flows the filter selected (replayed or skipped). */
  selected: number;
  results: ReplayResult[];
}

export async function runReplay(
  flows: Iterable<Flow> | AsyncIterable<Flow>,
  opts: ReplayRunOptions,
  send: (req: PlannedRequest) => Promise<ReplayedResponse>,
): Promise<ReplayRun> {
  const summary = emptySummary();
  const results: ReplayResult[] = [];
  let total = 0;
  let selected = 0;
  for await (const flow of flows) {
    total++;
    if (opts.select && !safeSelect(opts.select, flow)) continue;
    selected++;
    const result = await replayOne(flow, opts.target, send);
    addToSummary(summary, result);
    results.push(result);
    opts.onResult?.(result);
  }
  return { summary, total, selected, results };
}

function safeSelect(select: (flow: Flow) => boolean, flow: Flow): boolean {
  try {
    return select(flow);
  } catch {
    // A predicate that throws on an odd flow does not select it (as for breakpoints).
    return false;
  }
}

/** Replay one flow and compare. Never rejects: failures are results. */
export async function replayOne(flow: Flow, target: ReplayTarget | null, send: (req: PlannedRequest) => Promise<ReplayedResponse>): Promise<ReplayResult> {
  const base = { flowId: flow.id, method: flow.request.method, path: flow.request.path };
  const plan = planReplay(flow, target);
  if (!plan.ok) return { ...base, url: recordedUrl(flow, target), outcome: 'skipped', reason: plan.reason };
  const recorded = flow.response!; // planReplay skips flows without a response
  const t0 = performance.now();
  let replayed: ReplayedResponse;
  try {
    replayed = await send(plan.request);
  } catch (err) {
    const e = classifyUpstreamError(err);
    return { ...base, url: plan.request.url, outcome: 'failed', recordedStatus: recorded.status, error: { code: e.code, message: e.message }, durationMs: performance.now() - t0 };
  }
  const durationMs = performance.now() - t0;
  const cmp = compareResponse(recorded, replayed);
  const outcome = cmp.statusMatches && !bodyDiffers(cmp.body) ? 'match' : 'differ';
  return { ...base, url: plan.request.url, outcome, recordedStatus: recorded.status, status: replayed.status, body: cmp.body, durationMs };
}

function recordedUrl(flow: Flow, target: ReplayTarget | null): string {
  const { scheme, host, port } = target ?? flow.request;
  return flowUrl({ scheme, host, port, path: flow.request.path });
}
