import { assertNever } from '../core/assert-never.js';
import type { Flow, FlowResponse, WebSocketInfo } from '../core/flow.js';
import { filterRegex, type FilterNode } from './ast.js';
import { bodyText, messageText } from './body-text.js';
import type { FlagFilterName, RegexFilterName } from './catalog.js';
import { findHeader, headersMatch, requestUrl } from './flow-text.js';

/** A compiled filter: true when the flow matches. Safe on a flow in any phase; never throws. */
export type FlowPredicate = (flow: Flow) => boolean;

/**
 * Turn an AST into nested closures. Regexes are built here, once; evaluating allocates nothing
 * beyond the memoized strings of `flow-text.ts` and `body-text.ts`.
 */
export function compileFilterNode(node: FilterNode): FlowPredicate {
  switch (node.type) {
    case 'and':
      return allOf(node.operands.map(compileFilterNode));
    case 'or':
      return anyOf(node.operands.map(compileFilterNode));
    case 'not': {
      const inner = compileFilterNode(node.operand);
      return (flow) => !inner(flow);
    }
    case 'flag':
      return FLAGS[node.name];
    case 'regex':
      return regexPredicate(node.name, filterRegex(node.pattern));
    case 'status': {
      const status = node.status;
      return (flow) => flow.response !== null && flow.response.status === status;
    }
    case 'tag':
      return tagPredicate(node.tag);
    default:
      return assertNever(node, 'filter node');
  }
}

function allOf(parts: FlowPredicate[]): FlowPredicate {
  if (parts.length === 2) {
    const [a, b] = parts as [FlowPredicate, FlowPredicate];
    return (flow) => a(flow) && b(flow);
  }
  return (flow) => {
    for (let i = 0; i < parts.length; i++) if (!parts[i]!(flow)) return false;
    return true;
  };
}

function anyOf(parts: FlowPredicate[]): FlowPredicate {
  if (parts.length === 2) {
    const [a, b] = parts as [FlowPredicate, FlowPredicate];
    return (flow) => a(flow) || b(flow);
  }
  return (flow) => {
    for (let i = 0; i < parts.length; i++) if (parts[i]!(flow)) return true;
    return false;
  };
}

/**
 * Asset content types, after mitmproxy's `~a`: CSS, JavaScript, images and fonts. Matched at the
 * start of the response content-type.
 */
const ASSET_TYPE =
  /^\s*(?:text\/css|(?:text|application)\/(?:x-)?(?:javascript|ecmascript)|image\/|font\/|application\/(?:x-)?font|application\/vnd\.ms-fontobject)/i;

/** Predicates without arguments are shared constants: compiling them allocates nothing. */
const FLAGS: Record<FlagFilterName, FlowPredicate> = {
  q: (flow) => flow.response === null,
  s: (flow) => flow.response !== null,
  e: (flow) => flow.error !== null,
  a: (flow) => {
    if (flow.response === null) return false;
    const type = findHeader(flow.response.headers, 'content-type');
    return type !== undefined && ASSET_TYPE.test(type);
  },
  http: (flow) => flow.kind === 'http',
  http2: (flow) => flow.request.httpVersion === '2',
  websocket: (flow) => flow.kind === 'websocket',
  tunnel: (flow) => flow.kind === 'tunnel',
  marked: (flow) => flow.marked,
  all: () => true,
};

function regexPredicate(name: RegexFilterName, re: RegExp): FlowPredicate {
  switch (name) {
    case 'd':
      return (flow) => re.test(flow.request.host);
    case 'u':
      // The full URL, or its path: `~u ^/static/` means what it says (DESIGN.md §7 writes it so),
      // and a regex written for the full URL still matches as in mitmproxy.
      return (flow) => re.test(requestUrl(flow.request)) || re.test(flow.request.path);
    case 'm':
      return (flow) => re.test(flow.request.method);
    case 'h':
      return (flow) => headersMatch(re, flow.request.headers) || responseHeadersMatch(re, flow.response);
    case 'hq':
      return (flow) => headersMatch(re, flow.request.headers);
    case 'hs':
      return (flow) => responseHeadersMatch(re, flow.response);
    case 'b':
      return (flow) => requestBodyMatches(re, flow) || responseBodyMatches(re, flow);
    case 'bq':
      return (flow) => requestBodyMatches(re, flow);
    case 'bs':
      return (flow) => responseBodyMatches(re, flow);
    case 't':
      return (flow) => {
        // The response's content-type when it has one, else the request's.
        const type =
          (flow.response === null ? undefined : findHeader(flow.response.headers, 'content-type')) ??
          findHeader(flow.request.headers, 'content-type');
        return type !== undefined && re.test(type);
      };
    case 'tq':
      return (flow) => {
        const type = findHeader(flow.request.headers, 'content-type');
        return type !== undefined && re.test(type);
      };
    case 'ts':
      return (flow) => {
        if (flow.response === null) return false;
        const type = findHeader(flow.response.headers, 'content-type');
        return type !== undefined && re.test(type);
      };
    default:
      return assertNever(name, 'regex filter');
  }
}

function responseHeadersMatch(re: RegExp, response: FlowResponse | null): boolean {
  return response !== null && headersMatch(re, response.headers);
}

/** The request body, or for a WebSocket flow a message the client sent (as mitmproxy's `~bq`). */
function requestBodyMatches(re: RegExp, flow: Flow): boolean {
  const text = bodyText(flow.request.body, flow.request.headers);
  if (text !== null && re.test(text)) return true;
  return messagesMatch(re, flow.websocket, 'client');
}

/** The response body, or for a WebSocket flow a message the server sent. */
function responseBodyMatches(re: RegExp, flow: Flow): boolean {
  if (flow.response !== null) {
    const text = bodyText(flow.response.body, flow.response.headers);
    if (text !== null && re.test(text)) return true;
  }
  return messagesMatch(re, flow.websocket, 'server');
}

function messagesMatch(re: RegExp, ws: WebSocketInfo | null, direction: 'client' | 'server'): boolean {
  if (ws === null) return false;
  const list = ws.messages;
  for (let i = 0; i < list.length; i++) {
    const message = list[i]!;
    if (message.direction === direction && message.payload.length > 0 && re.test(messageText(message))) return true;
  }
  return false;
}

/**
 * `~tag cache:HIT` matches that tag; `~tag cache` also matches every `cache:…` tag, so families
 * like `replay-of:ID` can be selected without knowing the id. Case-insensitive like the rest.
 */
function tagPredicate(tag: string): FlowPredicate {
  const re = new RegExp(`^${tag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?::|$)`, 'i');
  return (flow) => {
    const tags = flow.tags;
    for (let i = 0; i < tags.length; i++) if (re.test(tags[i]!)) return true;
    return false;
  };
}
