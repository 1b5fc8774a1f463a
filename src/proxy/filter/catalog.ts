/**
 * The table of filters the expression language knows (DESIGN.md §6). The parser reads argument
 * kinds from it, `describe` its phrases, and the TUI's help overlay its help lines, so adding a
 * filter starts here.
 */

/** What follows a filter token. */
export type FilterArgument =
  /** Nothing: `~q`. */
  | 'none'
  /** A case-insensitive regular expression: `~d api\.example`. */
  | 'regex'
  /** A three-digit status code: `~c 404`. */
  | 'status'
  /** A plain string compared literally: `~tag blocked`. */
  | 'text';

export interface FilterSpec {
  /** What the filter takes as its argument. */
  argument: FilterArgument;
  /** How `describeFilter` names the filter, e.g. `domain` (for `domain ~ /re/`) or `has error`. */
  phrase: string;
  /** One line for the help overlay. */
  help: string;
}

/** Every filter, keyed by its name without the `~`. Names are matched case-insensitively. */
export const FILTERS = {
  d: { argument: 'regex', phrase: 'domain', help: 'request host matches regex' },
  u: { argument: 'regex', phrase: 'url', help: 'request URL (full, or its path) matches regex; a bare word means ~u word' },
  m: { argument: 'regex', phrase: 'method', help: 'request method matches regex' },
  c: { argument: 'status', phrase: 'status', help: 'response status code is exactly code' },
  h: { argument: 'regex', phrase: 'header', help: 'a request or response header line "Name: value" matches regex' },
  hq: { argument: 'regex', phrase: 'request header', help: 'a request header line "Name: value" matches regex' },
  hs: { argument: 'regex', phrase: 'response header', help: 'a response header line "Name: value" matches regex' },
  b: { argument: 'regex', phrase: 'body', help: 'request or response body (decoded) or a WebSocket message matches regex' },
  bq: { argument: 'regex', phrase: 'request body', help: 'request body (decoded) or a client WebSocket message matches regex' },
  bs: { argument: 'regex', phrase: 'response body', help: 'response body (decoded) or a server WebSocket message matches regex' },
  t: { argument: 'regex', phrase: 'content-type', help: 'response content-type (else the request\'s) matches regex' },
  tq: { argument: 'regex', phrase: 'request content-type', help: 'request content-type matches regex' },
  ts: { argument: 'regex', phrase: 'response content-type', help: 'response content-type matches regex' },
  tag: { argument: 'text', phrase: 'tag', help: 'flow has the tag (`~tag cache` also matches cache:HIT)' },
  q: { argument: 'none', phrase: 'no response', help: 'request without a response (yet)' },
  s: { argument: 'none', phrase: 'has response', help: 'flow has a response' },
  e: { argument: 'none', phrase: 'has error', help: 'flow has an error' },
  a: { argument: 'none', phrase: 'asset', help: 'response is an asset: CSS, JavaScript, image or font' },
  http: { argument: 'none', phrase: 'HTTP flow', help: 'plain HTTP exchange (not WebSocket, not tunnel)' },
  http2: { argument: 'none', phrase: 'HTTP/2', help: 'request was made over HTTP/2' },
  websocket: { argument: 'none', phrase: 'WebSocket', help: 'WebSocket flow' },
  tunnel: { argument: 'none', phrase: 'tunnel', help: 'raw TCP tunnel (ignored host)' },
  marked: { argument: 'none', phrase: 'marked', help: 'flow is marked' },
  all: { argument: 'none', phrase: 'everything', help: 'every flow' },
} as const satisfies Record<string, FilterSpec>;

export type FilterName = keyof typeof FILTERS;

type NamesTaking<A extends FilterArgument> = {
  [K in FilterName]: (typeof FILTERS)[K]['argument'] extends A ? K : never;
}[FilterName];

/** Filters that take a regular expression: `~d`, `~u`, `~h` … */
export type RegexFilterName = NamesTaking<'regex'>;
/** Filters without an argument: `~q`, `~websocket` … */
export type FlagFilterName = NamesTaking<'none'>;

/** The spec of a filter name as typed after `~` (any case), or undefined when unknown. */
export function lookupFilter(name: string): { name: FilterName; spec: FilterSpec } | undefined {
  const lower = name.toLowerCase();
  if (!Object.hasOwn(FILTERS, lower)) return undefined;
  const known = lower as FilterName;
  return { name: known, spec: FILTERS[known] };
}

/** One row of the filter help overlay. */
export interface FilterHelpEntry {
  /** How it is written, e.g. `~d regex`, `~c code`, `~q`. */
  syntax: string;
  help: string;
}

const ARGUMENT_PLACEHOLDER: Record<FilterArgument, string> = {
  none: '',
  regex: ' regex',
  status: ' code',
  text: ' name',
};

/** Help lines for every filter and operator, in catalog order, for the TUI. */
export const FILTER_HELP: readonly FilterHelpEntry[] = [
  ...Object.entries(FILTERS).map(([name, spec]: [string, FilterSpec]) => ({
    syntax: `~${name}${ARGUMENT_PLACEHOLDER[spec.argument]}`,
    help: spec.help,
  })),
  { syntax: '!', help: 'not' },
  { syntax: '&', help: 'and (also implied between two filters: `~d a ~m GET`)' },
  { syntax: '|', help: 'or (binds looser than &)' },
  { syntax: '( )', help: 'grouping' },
  { syntax: '"…" \'…\'', help: 'quote an argument with spaces or parentheses; \\" escapes the quote' },
];
