import { bodyForm, type FixtureExchange } from './fixture-exchange.js';

/**
 * nock definitions: the array `nock.define(defs)` loads (the same shape nock's recorder writes
 * with `output_objects: true`). Each definition answers one request once, in recorded order, so
 * repeated identical requests get their recorded answers one after another.
 *
 * - `path` carries the query; nock matches its parameters.
 * - `body` (only when the request had one) is the exact text, or the object for canonical JSON
 *   (nock then compares parsed JSON). A non-UTF-8 body is hex, as nock compares binary bodies.
 * - `response` is an object for canonical JSON, else text; anything else (binary, or text nock
 *   would re-serialize because it parses as JSON) is hex with `responseIsBinary`, byte-exact.
 * - Headers go in `rawHeaders` (flat, in recorded order and case): `define` ignores `headers`.
 */
export interface NockDefinition {
  scope: string;
  method: string;
  path: string;
  body?: string | object;
  status: number;
  response?: string | object;
  responseIsBinary?: boolean;
  rawHeaders: string[];
  reqheaders?: Record<string, string>;
}

export function toNockDefinitions(exchanges: readonly FixtureExchange[]): NockDefinition[] {
  return exchanges.map((x) => {
    const def: NockDefinition = { scope: x.origin, method: x.method, path: `${x.pathname}${x.search}`, status: x.status, rawHeaders: x.headers.flat() };
    if (x.requestBody.length > 0) {
      const form = bodyForm(x.requestBody, x.requestContentType ? [['content-type', x.requestContentType]] : []);
      def.body = form.kind === 'json' ? (form.value as object) : form.kind === 'text' ? form.text : x.requestBody.toString('hex');
    }
    if (!x.noBody && x.body.length > 0) {
      const form = bodyForm(x.body, x.headers);
      if (form.kind === 'json') def.response = form.value as object;
      else if (form.kind === 'text' && !parsesAsJson(form.text)) def.response = form.text;
      else {
        def.response = x.body.toString('hex');
        def.responseIsBinary = true;
      }
    }
    return def;
  });
}

/** nock's define() JSON-parses a string response when it can, changing its bytes on the way out. */
function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
