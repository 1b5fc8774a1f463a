import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { bodyForm, fixtureExchanges } from '../../../src/export/fixture-exchange.js';
import { mswGroups, toMswHandlers } from '../../../src/export/msw.js';
import { toNockDefinitions } from '../../../src/export/nock.js';
import { toVitestFile } from '../../../src/export/vitest.js';
import type { Flow } from '../../../src/proxy/core/flow.js';
import { body, gzipBody, makeFlow } from '../../helpers/make-flow.js';

const flows = (): Flow[] => [
  makeFlow({ request: { path: '/users?page=1' }, response: { headers: [['Content-Type', 'application/json'], ['Content-Length', '9'], ['Connection', 'keep-alive'], ['Transfer-Encoding', 'chunked']], body: body('{"id":1}') } }),
  makeFlow({ request: { path: '/users?page=2' }, response: { headers: [['Content-Type', 'application/json'], ['Content-Encoding', 'gzip']], body: gzipBody('{"id":2}') } }),
  makeFlow({ request: { method: 'POST', path: '/login', headers: [['Content-Type', 'application/json']], body: body('{"user":"a"}') }, response: { status: 201, headers: [['Content-Type', 'text/plain']], body: body('created') } }),
  makeFlow({ request: { method: 'POST', path: '/login', headers: [['Content-Type', 'application/json']], body: body('{"user":"a"}') }, response: { status: 429, headers: [], body: body('{ "spaced": true }') } }),
  makeFlow({ request: { scheme: 'https', path: '/img', httpVersion: '2' }, response: { headers: [[':status', '200'], ['content-type', 'image/png']], body: body(Buffer.from([0x89, 0x50, 0, 0xff])) } }),
  makeFlow({ request: { method: 'HEAD', path: '/h' }, response: { headers: [['Content-Length', '100']], body: body('') } }),
  makeFlow({ request: { method: 'PROPFIND', path: '/dav' }, response: { status: 207, body: body('<multistatus/>') } }),
  makeFlow({ response: null, error: { code: 'UPSTREAM_REFUSED', message: 'refused' } }),
  makeFlow({ response: { status: 101, body: body('') }, websocket: { messages: [] } }),
];

describe('fixture exchanges', () => {
  it('keeps finished HTTP exchanges, decodes bodies and drops framing headers', () => {
    const { exchanges, skipped } = fixtureExchanges(flows());
    expect(exchanges).toHaveLength(7);
    expect(Object.fromEntries(skipped)).toEqual({ 'flows without a complete response': 1, 'websocket flows': 1 });
    expect(exchanges[0]!.headers).toEqual([['Content-Type', 'application/json']]);
    expect(exchanges[1]!.headers).toEqual([['Content-Type', 'application/json']]);
    expect(exchanges[1]!.body.toString()).toBe('{"id":2}');
    expect(exchanges[4]!.headers).toEqual([['content-type', 'image/png']]);
    expect(exchanges[5]!.noBody).toBe(true);
    expect(exchanges[0]).toMatchObject({ method: 'GET', url: 'http://example.com/users?page=1', origin: 'http://example.com', pathname: '/users', search: '?page=1' });
  });

  it.each<[string, string | Buffer, string]>([
    ['canonical JSON', '{"a":[1,2]}', 'json'],
    ['spaced JSON (re-serializing would change it)', '{ "a": 1 }', 'text'],
    ['text', 'hello', 'text'],
    ['a JSON scalar', '42', 'text'],
    ['binary', Buffer.from([0xff, 0xfe]), 'base64'],
  ])('writes %s as %s', (_what, content, kind) => {
    expect(bodyForm(typeof content === 'string' ? Buffer.from(content) : content, [['content-type', 'application/json']]).kind).toBe(kind);
  });
});

describe('nock definitions', () => {
  it('has the shape nock.define() loads: scope, method, path with query, body, status, response, rawHeaders', () => {
    const defs = toNockDefinitions(fixtureExchanges(flows()).exchanges);
    expect(defs[0]).toEqual({ scope: 'http://example.com', method: 'GET', path: '/users?page=1', status: 200, response: { id: 1 }, rawHeaders: ['Content-Type', 'application/json'] });
    expect(defs[2]).toMatchObject({ method: 'POST', path: '/login', body: { user: 'a' }, status: 201, response: 'created' });
    // Text that nock would JSON-parse (and re-serialize) goes as exact bytes instead.
    expect(defs[3]).toMatchObject({ status: 429, response: Buffer.from('{ "spaced": true }').toString('hex'), responseIsBinary: true });
    expect(defs[4]).toMatchObject({ scope: 'https://example.com', response: '895000ff', responseIsBinary: true });
    expect(defs[5]).toEqual({ scope: 'http://example.com', method: 'HEAD', path: '/h', status: 200, rawHeaders: [] });
    for (const d of defs) expect(d).not.toHaveProperty('headers');
  });
});

function syntaxErrors(code: string, typescript: boolean): string[] {
  const out = ts.transpileModule(code, { reportDiagnostics: true, fileName: typescript ? 'x.ts' : 'x.js', compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, allowJs: true } });
  return (out.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('msw handlers', () => {
  const exchanges = fixtureExchanges(flows()).exchanges;

  it('groups by method and URL without query, in first-seen order', () => {
    const groups = mswGroups(exchanges);
    expect(groups.map((g) => `${g.method} ${g.url} ×${g.records.length}`)).toEqual([
      'GET http://example.com/users ×2',
      'POST http://example.com/login ×2',
      'GET https://example.com/img ×1',
      'HEAD http://example.com/h ×1',
      'PROPFIND http://example.com/dav ×1',
    ]);
    expect(groups[2]!.records[0]).toMatchObject({ body: Buffer.from([0x89, 0x50, 0, 0xff]).toString('base64'), bodyBase64: true });
    expect(groups[3]!.records[0]!.body).toBeNull();
  });

  it.each([false, true])('is a module importing msw and exporting handlers (typescript: %s)', (typescript) => {
    const code = toMswHandlers(exchanges, { typescript, source: 'demo' });
    expect(code).toMatch(/^\/\/ Generated by proxyctl from demo: 7 recorded exchanges\./);
    expect(code).toContain(`import { http, HttpResponse } from 'msw';`);
    expect(code).toMatch(/^export const handlers = \[$/m);
    expect(code.match(/^ {2}http\.\w+\(/gm)).toHaveLength(5);
    expect(code).toContain('http.get("http://example.com/users", replay([');
    expect(code).toContain('http.all("http://example.com/dav", replay([');
    expect(code).toMatch(/\], "PROPFIND"\)\),/);
    expect(code.includes('interface Recorded')).toBe(typescript);
    expect(syntaxErrors(code, typescript)).toEqual([]);
  });

  it('uses an anchored RegExp for URLs msw would read as parameters or wildcards', () => {
    const code = toMswHandlers(fixtureExchanges([makeFlow({ request: { path: '/a:b/*x' } })]).exchanges, { typescript: false });
    expect(code).toContain(String.raw`http.get(/^http:\/\/example\.com\/a:b\/\*x(\?.*)?$/, replay([`);
  });
});

describe('vitest file', () => {
  const exchanges = fixtureExchanges(flows()).exchanges;

  it.each([
    ['msw', './handlers.js'],
    ['nock', './nock.json'],
  ] as const)('with %s importing %s: one test per exchange asserting status and body', (mock, path) => {
    const code = toVitestFile(exchanges, { typescript: true, mock, fixturesPath: path, source: 'demo' });
    expect(code).toContain(`import { afterAll, beforeAll, describe, expect, it } from 'vitest';`);
    if (mock === 'msw') {
      expect(code).toContain(`import { setupServer } from 'msw/node';`);
      expect(code).toContain(`import { handlers } from "./handlers.js";`);
      expect(code).toContain(`server.listen({ onUnhandledRequest: 'error' })`);
    } else {
      expect(code).toContain(`import nock from 'nock';`);
      expect(code).toContain(`new URL("./nock.json", import.meta.url)`);
      expect(code).toContain('nock.define(definitions)');
    }
    expect(code.match(/^ {2}it\(/gm)).toHaveLength(7);
    expect(code).toContain('it("#1 GET http://example.com/users?page=1 → 200"');
    expect(code).toContain('expect(await res.json()).toEqual({"id":1});');
    expect(code).toContain(`body: "{\\"user\\":\\"a\\"}"`);
    expect(code).toContain(`expect(await res.text()).toBe("created");`);
    expect(code).toContain(`toString('base64')).toBe("iVAA/w==")`);
    expect(code).toContain(`redirect: 'manual'`);
    expect(syntaxErrors(code, true)).toEqual([]);
  });

  it('inlines the fixtures when written as one file', () => {
    const msw = toVitestFile(exchanges, { typescript: false, mock: 'msw', fixturesPath: null });
    expect(msw).toContain('const handlers = [');
    expect(msw).not.toContain('export const handlers');
    expect(syntaxErrors(msw, false)).toEqual([]);
    const nock = toVitestFile(exchanges, { typescript: false, mock: 'nock', fixturesPath: null });
    expect(nock).toMatch(/const definitions = \[\n/);
    expect(syntaxErrors(nock, false)).toEqual([]);
  });

  it('skips methods fetch cannot send', () => {
    const code = toVitestFile(fixtureExchanges([makeFlow({ request: { method: 'TRACE' } })]).exchanges, { typescript: false, mock: 'msw', fixturesPath: null });
    expect(code).toContain('it.skip("#1 TRACE http://example.com/ → 200", () => {}); // fetch cannot send TRACE');
  });
});
