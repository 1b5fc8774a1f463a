import { flowUrl, type Flow } from '../../proxy/core/flow.js';
import { formatRawRequest, formatRawResponse, parseRawRequest, parseRawResponse, RawHttpError } from '../../proxy/core/raw-http.js';
import type { RequestEdit, ResponseEdit } from '../../proxy/core/commands.js';
import { currentFlow, send, type CommandDeps } from '../commands.js';
import { parseRespondSpec, pausedStage } from './pause-format.js';

/**
 * The keys that work paused flows (issue 5): resume, kill, respond in place, edit in $EDITOR or
 * the URL in a prompt, and replay with an edited copy. Each refuses, with a message, a flow that
 * is not paused (or not at the stage the key needs) and then sends nothing.
 */

const EMPTY = Buffer.alloc(0);

function warn(d: CommandDeps, text: string): void {
  d.dispatch({ type: 'message', text, level: 'warn' });
}

/** The current flow if it is paused (at `stage`, when given); else a message and null. */
function paused(d: CommandDeps, stage?: 'request' | 'response'): Flow | null {
  const cur = currentFlow(d);
  if (!cur) {
    warn(d, 'no flow selected');
    return null;
  }
  const at = pausedStage(cur.flow);
  if (at === null) {
    warn(d, 'that flow is not paused');
    return null;
  }
  if (stage && at !== stage) {
    warn(d, `that flow is paused at the ${at}; this key works at the ${stage} stage`);
    return null;
  }
  return cur.flow;
}

export function resumeSelected(d: CommandDeps): void {
  const flow = paused(d);
  if (flow) send(d, { type: 'resume', flowId: flow.id }, 'resumed');
}

export function killSelected(d: CommandDeps): void {
  const flow = paused(d);
  if (flow) send(d, { type: 'kill', flowId: flow.id }, 'killed');
}

export function openRespondPrompt(d: CommandDeps): void {
  const flow = paused(d, 'request');
  if (flow) d.dispatch({ type: 'prompt', action: { type: 'open', kind: 'respond', text: '', flowId: flow.id } });
}

export function openUrlPrompt(d: CommandDeps): void {
  const flow = paused(d, 'request');
  if (flow) d.dispatch({ type: 'prompt', action: { type: 'open', kind: 'url', text: flowUrl(flow.request), flowId: flow.id } });
}

/** Enter in the respond prompt; returns an error for the prompt's second line, or null when sent. */
export function submitRespond(d: CommandDeps, text: string, flowId: string): string | null {
  const spec = parseRespondSpec(text);
  if (!spec.ok) return `^ ${spec.error}`;
  send(d, { type: 'respond', flowId, response: spec.response }, `answered with ${spec.response.status}`);
  return null;
}

/** Enter in the URL prompt: resume the request with the new URL (the proxy checks it). */
export function submitUrl(d: CommandDeps, text: string, flowId: string): string | null {
  if (!/^https?:\/\/\S+$/i.test(text)) return '^ write the whole URL, e.g. https://host/path';
  send(d, { type: 'resume', flowId, request: { url: text } }, `resumed with ${text}`);
  return null;
}

/** The text of the edited message, or null (with a message) when the editor failed or nothing changed. */
function edit(d: CommandDeps, text: string, name: string): string | null {
  if (!d.editText) {
    warn(d, 'no terminal to run an editor in');
    return null;
  }
  const r = d.editText(text, name);
  if (!r.ok) {
    d.dispatch({ type: 'message', text: r.error, level: 'error' });
    return null;
  }
  return r.text;
}

/** Parse edited text; a syntax error goes to the message line with its line number. */
function parse<T>(d: CommandDeps, text: string, parser: (t: string) => T, what: string): T | null {
  try {
    return parser(text);
  } catch (err) {
    if (!(err instanceof RawHttpError)) throw err;
    d.dispatch({ type: 'message', text: `${what} not used: ${err.message}`, level: 'error' });
    return null;
  }
}

/**
 * `e`: the paused message as raw HTTP in $EDITOR; a good edit resumes the flow with it, a bad one
 * (or a refusal from the proxy) leaves it paused and unchanged.
 */
export function editPaused(d: CommandDeps): void {
  const flow = paused(d);
  if (!flow) return;
  const stage = pausedStage(flow)!;
  if (stage === 'request') {
    const before = formatRawRequest(flow.request, flow.request.body.bytes ?? EMPTY);
    const text = edit(d, before, `${flow.id}-request.http`);
    if (text === null) return;
    if (text === before) return warn(d, 'request unchanged; still paused (a resumes)');
    const req: RequestEdit | null = parse(d, text, parseRawRequest, 'edit; the request is still paused and');
    if (req) send(d, { type: 'resume', flowId: flow.id, request: req }, 'resumed with the edited request');
    return;
  }
  if (!flow.response) return warn(d, 'no response to edit');
  const before = formatRawResponse(flow.response, flow.response.body.bytes ?? EMPTY);
  const text = edit(d, before, `${flow.id}-response.http`);
  if (text === null) return;
  if (text === before) return warn(d, 'response unchanged; still paused (a resumes)');
  const res: ResponseEdit | null = parse(d, text, parseRawResponse, 'edit; the response is still paused and');
  if (res) send(d, { type: 'resume', flowId: flow.id, response: res }, 'resumed with the edited response');
}

/** `D`: the recorded request in $EDITOR, then replayed as edited. */
export function duplicateAndReplay(d: CommandDeps): void {
  const cur = currentFlow(d);
  if (!cur) return warn(d, 'no flow selected');
  if (cur.flow.kind !== 'http') return warn(d, `cannot replay a ${cur.flow.kind} flow`);
  const text = edit(d, formatRawRequest(cur.flow.request, cur.flow.request.body.bytes ?? EMPTY), `${cur.flow.id}-replay.http`);
  if (text === null) return;
  const req = parse(d, text, parseRawRequest, 'replay not sent: edit');
  if (req) send(d, { type: 'replay', flowId: cur.flow.id, request: req }, 'replay of the edited copy started');
}
