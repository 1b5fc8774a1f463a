import { flowUrl, type FlowRequest, type HeaderPairs } from '../core/flow.js';

/*
 * The strings filters match against, memoized per flow part so that filtering the same flows again
 * (the TUI re-filters on every keystroke, rules test every flow) allocates nothing. Each entry
 * remembers what it was built from and is rebuilt when that changed, because rules may edit a flow
 * in place (DESIGN.md §5). WeakMaps: an entry lives exactly as long as the flow part it describes.
 */

interface UrlEntry {
  scheme: string;
  host: string;
  port: number;
  path: string;
  url: string;
}

const urls = new WeakMap<FlowRequest, UrlEntry>();

/** `flowUrl(request)`, memoized. */
export function requestUrl(req: FlowRequest): string {
  const e = urls.get(req);
  if (e !== undefined && e.scheme === req.scheme && e.host === req.host && e.port === req.port && e.path === req.path) {
    return e.url;
  }
  const url = flowUrl(req);
  urls.set(req, { scheme: req.scheme, host: req.host, port: req.port, path: req.path, url });
  return url;
}

interface LinesEntry {
  names: string[];
  values: string[];
  /** `Name: value`, one per header, in order. */
  lines: string[];
}

const headerLineCache = new WeakMap<HeaderPairs, LinesEntry>();

/** The headers as `Name: value` lines (what `~h` matches, as in mitmproxy), memoized. */
export function headerLines(headers: HeaderPairs): readonly string[] {
  const e = headerLineCache.get(headers);
  if (e !== undefined && sameHeaders(e, headers)) return e.lines;
  const names: string[] = [];
  const values: string[] = [];
  const lines: string[] = [];
  for (const [name, value] of headers) {
    names.push(name);
    values.push(value);
    lines.push(`${name}: ${value}`);
  }
  headerLineCache.set(headers, { names, values, lines });
  return lines;
}

function sameHeaders(e: LinesEntry, headers: HeaderPairs): boolean {
  if (e.names.length !== headers.length) return false;
  for (let i = 0; i < headers.length; i++) {
    const pair = headers[i]!;
    if (pair[0] !== e.names[i] || pair[1] !== e.values[i]) return false;
  }
  return true;
}

/** True when any header line matches. */
export function headersMatch(re: RegExp, headers: HeaderPairs): boolean {
  const lines = headerLines(headers);
  for (let i = 0; i < lines.length; i++) if (re.test(lines[i]!)) return true;
  return false;
}

/**
 * First value of a header; `lowerName` must be lower case. Unlike `headerValue` in core it compares
 * lengths first, so the usual miss costs no `toLowerCase()` allocation.
 */
export function findHeader(headers: HeaderPairs, lowerName: string): string | undefined {
  for (let i = 0; i < headers.length; i++) {
    const pair = headers[i]!;
    if (pair[0].length === lowerName.length && (pair[0] === lowerName || pair[0].toLowerCase() === lowerName)) {
      return pair[1];
    }
  }
  return undefined;
}
