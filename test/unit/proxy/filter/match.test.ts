import { describe, expect, it } from 'vitest';
import type { Flow } from '../../../../src/proxy/core/flow.js';
import { emptyBody } from '../../../../src/proxy/core/flow.js';
import { compileFilter, parseFilter } from '../../../../src/proxy/filter/index.js';
import { body, gzipBody, makeFlow } from '../../../helpers/make-flow.js';

/*
 * A small traffic log, and for each expression the exact set of flows it selects. Every row checks
 * both sides: the flows it should match and all the others it must not.
 */
const flows = {
  home: makeFlow(),
  api: makeFlow({
    request: {
      method: 'POST',
      scheme: 'https',
      host: 'api.example.com',
      path: '/v1/users?page=2',
      httpVersion: '2',
      headers: [
        ['content-type', 'application/json'],
        ['authorization', 'Bearer t0ken'],
      ],
      body: body('{"name":"alice"}'),
    },
    response: {
      status: 201,
      headers: [
        ['content-type', 'application/json'],
        ['x-request-id', 'abc123'],
      ],
      body: body('{"id":42}'),
    },
  }),
  missing: makeFlow({
    request: { host: 'www.example.org', path: '/missing' },
    response: { status: 404, headers: [['Content-Type', 'text/html']], body: body('<h1>not found</h1>') },
  }),
  pending: makeFlow({ request: { host: 'slow.example.net', path: '/report' }, response: null }),
  failed: makeFlow({
    request: { host: 'down.invalid' },
    response: null,
    error: { code: 'UPSTREAM_REFUSED', message: 'connect ECONNREFUSED' },
  }),
  socket: makeFlow({
    request: { host: 'chat.example.com', path: '/socket' },
    response: {
      status: 101,
      headers: [
        ['Upgrade', 'websocket'],
        ['Connection', 'Upgrade'],
      ],
      body: emptyBody(),
    },
    websocket: {
      messages: [
        { direction: 'client', type: 'text', size: 12, payload: Buffer.from('hello server'), truncated: false, time: 1 },
        { direction: 'server', type: 'text', size: 13, payload: Buffer.from('welcome alice'), truncated: false, time: 2 },
      ],
    },
  }),
  tunnel: makeFlow({
    kind: 'tunnel',
    phase: 'done',
    request: { method: 'CONNECT', scheme: 'https', host: 'pinned.bank.test', path: 'pinned.bank.test:443' },
    response: null,
  }),
  style: makeFlow({
    request: { scheme: 'https', host: 'cdn.example.net', path: '/site.css' },
    response: { headers: [['Content-Type', 'text/css']], body: body('body{}') },
    marked: true,
  }),
  logo: makeFlow({
    request: { scheme: 'https', host: 'cdn.example.net', path: '/logo.png' },
    response: { headers: [['Content-Type', 'image/png']], body: body(Buffer.from([0x89, 0x50, 0x4e, 0x47])) },
    tags: ['cache:HIT'],
  }),
  script: makeFlow({
    request: { scheme: 'https', host: 'cdn.example.net', path: '/app.js' },
    response: { headers: [['Content-Type', 'application/javascript; charset=utf-8']], body: body('run(1)') },
    tags: ['replay-of:flow-000002', 'mocked'],
  }),
  font: makeFlow({
    request: { scheme: 'https', host: 'cdn.example.net', path: '/f.woff2' },
    response: { headers: [['Content-Type', 'font/woff2']], body: body('wOF2') },
    tags: ['blocked'],
  }),
  upload: makeFlow({
    request: {
      method: 'PUT',
      path: '/upload',
      headers: [['Content-Type', 'text/csv']],
      body: body('a,b\n1,2'),
    },
    response: { status: 204, headers: [], body: emptyBody() },
  }),
  zipped: makeFlow({
    request: { path: '/news' },
    response: {
      headers: [
        ['Content-Type', 'text/html'],
        ['Content-Encoding', 'gzip'],
      ],
      body: gzipBody('<p>the quick brown fox</p>'),
    },
  }),
} satisfies Record<string, Flow>;

type Name = keyof typeof flows;
const ALL = Object.keys(flows) as Name[];
const except = (...names: Name[]): Name[] => ALL.filter((n) => !names.includes(n));
const CDN: Name[] = ['style', 'logo', 'script', 'font'];

function selected(expression: string): Name[] {
  const predicate = compileFilter(expression);
  return ALL.filter((name) => predicate(flows[name]));
}

function sorted(names: Name[]): Name[] {
  return [...names].sort();
}

describe('each filter selects the flows it names', () => {
  it.each<[string, Name[]]>([
    ['~all', ALL],
    // ~d: request host, regex search, case-insensitive
    ['~d api\\.example', ['api']],
    ['~d EXAMPLE\\.COM$', ['home', 'api', 'socket', 'upload', 'zipped']],
    ['~d ^example\\.com$', ['home', 'upload', 'zipped']],
    // ~u: the full URL
    ['~u /v1/users\\?page=2', ['api']],
    ['~u ^https://cdn', CDN],
    ['~u \\.css$', ['style']],
    ['~u ^http://example\\.com/$', ['home']],
    // ~m
    ['~m POST', ['api']],
    ['~m put', ['upload']],
    ['~m ^GET$', except('api', 'tunnel', 'upload')],
    // ~c: exact status
    ['~c 404', ['missing']],
    ['~c 200', ['home', 'style', 'logo', 'script', 'font', 'zipped']],
    ['~c 101', ['socket']],
    // ~h / ~hq / ~hs: "Name: value" lines
    ['~h x-request-id', ['api']],
    ['~h "^authorization: bearer"', ['api']],
    ['~h ^upgrade:\\s*websocket$', ['socket']],
    ['~hq authorization', ['api']],
    ['~hq x-request-id', []],
    ['~hs x-request-id', ['api']],
    ['~hs authorization', []],
    // ~b / ~bq / ~bs: bodies (decoded) and WebSocket messages by direction
    ['~b alice', ['api', 'socket']],
    ['~bq alice', ['api']],
    ['~bs alice', ['socket']],
    ['~bq "hello server"', ['socket']],
    ['~bs "hello server"', []],
    ['~bs "quick brown"', ['zipped']],
    ['~bq ^a,b', ['upload']],
    ['~bs ^ok$', ['home']],
    // ~t: response content-type, else the request's; ~tq / ~ts one side only
    ['~t json', ['api']],
    ['~t text/css', ['style']],
    ['~t csv', ['upload']],
    ['~t ^text/', ['home', 'missing', 'style', 'upload', 'zipped']],
    ['~tq json', ['api']],
    ['~ts csv', []],
    // phases and kinds
    ['~q', ['pending', 'failed', 'tunnel']],
    ['~s', except('pending', 'failed', 'tunnel')],
    ['~e', ['failed']],
    ['~websocket', ['socket']],
    ['~tunnel', ['tunnel']],
    ['~http', except('socket', 'tunnel')],
    ['~http2', ['api']],
    ['~marked', ['style']],
    // ~a: CSS, JavaScript, images, fonts by response content-type
    ['~a', CDN],
    // ~tag: exact, or a family before ":"; case-insensitive
    ['~tag blocked', ['font']],
    ['~tag cache', ['logo']],
    ['~tag cache:hit', ['logo']],
    ['~tag cache:MISS', []],
    ['~tag replay-of', ['script']],
    ['~tag mock', []],
    ['~tag mocked', ['script']],
    // filter names are case-insensitive
    ['~D api', ['api']],
  ])('%s', (expression, expected) => {
    expect(sorted(selected(expression))).toEqual(sorted(expected));
  });
});

describe('a bare word means ~u word', () => {
  it.each<[string, Name[]]>([
    ['cdn', CDN],
    ['users', ['api']],
    ['"/v1/users"', ['api']],
    ['USERS', ['api']],
    ['\\.css$', ['style']],
  ])('%s', (expression, expected) => {
    expect(sorted(selected(expression))).toEqual(sorted(expected));
  });
});

describe('operators and precedence (! > & > |)', () => {
  it.each<[string, Name[]]>([
    ['!~s', ['pending', 'failed', 'tunnel']],
    ['!!~e', ['failed']],
    ['~d cdn & !~marked', ['logo', 'script', 'font']],
    // juxtaposition is &
    ['~d cdn !~marked', ['logo', 'script', 'font']],
    ['~d cdn ~tag blocked', ['font']],
    ['~d cdn ~a ~tag cache', ['logo']],
    ['~c 404 | ~c 201', ['missing', 'api']],
    // & binds tighter than |
    ['~m POST | ~m GET & ~c 404', ['api', 'missing']],
    ['(~m POST | ~m GET) & ~c 404', ['missing']],
    ['~m GET ~c 404 | ~m POST', ['missing', 'api']],
    ['~m POST | ~m GET ~c 404', ['api', 'missing']],
    // ! binds tighter than &
    ['!~m GET & ~s', ['api', 'upload']],
    ['!(~m GET & ~s)', ['api', 'upload', 'pending', 'failed', 'tunnel']],
    ['! ~q | ~e', except('pending', 'tunnel')],
    ['~q & !~e & !~tunnel', ['pending']],
    ['((~d cdn))', CDN],
    ['~d cdn & (~tag blocked | ~marked)', ['font', 'style']],
    ['!(~d cdn | ~d example\\.com$) ~s', ['missing']],
    ['~q&~e', ['failed']],
    ['~q|~e', ['pending', 'failed', 'tunnel']],
    ['(~q)(~e)', ['failed']],
  ])('%s', (expression, expected) => {
    expect(sorted(selected(expression))).toEqual(sorted(expected));
  });
});

describe('arguments and quoting', () => {
  it.each<[string, Name[]]>([
    ['~bq \'hello server\'', ['socket']],
    ['~bs "welcome alice"', ['socket']],
    // regex escapes survive inside quotes
    ['~h "x-request-id: abc\\d+"', ['api']],
    ['~d "^api\\.example\\.com$"', ['api']],
    // \" and \' put the quote itself in the argument
    ['~bq "\\"name\\""', ['api']],
    ["~bq '\\'name\\''", []],
    // parentheses and spaces need quotes
    ['~u "(users|missing)"', ['api', 'missing']],
    ['~bs "not found"', ['missing']],
    // unquoted, | & ! ~ inside an argument belong to it (as in mitmproxy)
    ['~d cdn|api', [...CDN, 'api']],
    ['~u page=2&x|site', ['style']],
    ['~d cdn&~tag', []],
    ['~u !', []],
    // an empty quoted regex matches everything that has the field
    ['~d ""', ALL],
    ['~ts ""', except('pending', 'failed', 'tunnel', 'socket', 'upload')],
    // argument right after the name
    ['~d"api"', ['api']],
  ])('%s', (expression, expected) => {
    expect(sorted(selected(expression))).toEqual(sorted(expected));
  });
});

describe('flows in every phase', () => {
  // A request that has only just started: no response, no body bytes, no websocket.
  const starting = makeFlow({ phase: 'requesting', response: null, request: { body: { state: 'streaming' } } });
  const paused = makeFlow({ phase: 'request-paused', response: null });
  const responding = makeFlow({
    phase: 'responding',
    response: { body: { size: 0, bytes: null, state: 'streaming', truncated: false, sha256: null } },
  });

  it.each<[string, boolean, boolean, boolean]>([
    // expression, starting, paused, responding
    ['~all', true, true, true],
    ['~q', true, true, false],
    ['~s', false, false, true],
    ['~e', false, false, false],
    ['~c 200', false, false, true],
    ['~b .', false, false, false],
    ['~bq .', false, false, false],
    ['~bs .', false, false, false],
    ['~b ""', false, false, false],
    ['~h host', true, true, true],
    ['~hs .', false, false, true],
    ['~t .', false, false, true],
    ['~ts .', false, false, true],
    ['~a', false, false, false],
    ['~websocket', false, false, false],
    ['~tag x', false, false, false],
    ['~u example', true, true, true],
  ])('%s', (expression, onStarting, onPaused, onResponding) => {
    const predicate = compileFilter(expression);
    expect([predicate(starting), predicate(paused), predicate(responding)]).toEqual([onStarting, onPaused, onResponding]);
  });
});

describe('~a recognizes asset content types', () => {
  it.each<[string, boolean]>([
    ['text/css', true],
    ['text/javascript', true],
    ['application/javascript', true],
    ['application/x-javascript', true],
    ['application/ecmascript', true],
    ['image/svg+xml', true],
    ['IMAGE/PNG', true],
    ['font/woff2', true],
    ['application/font-woff', true],
    ['application/x-font-ttf', true],
    ['application/vnd.ms-fontobject', true],
    ['text/html', false],
    ['application/json', false],
    ['video/mp4', false],
  ])('%s → %s', (type, expected) => {
    const flow = makeFlow({ response: { headers: [['Content-Type', type]] } });
    expect(compileFilter('~a')(flow)).toBe(expected);
  });
});

describe('a compiled filter follows the flow as it changes', () => {
  it('sees a rule rewrite a header in place', () => {
    const flow = makeFlow({ request: { headers: [['X-Env', 'staging']] } });
    const predicate = compileFilter('~hq "x-env: prod"');
    expect(predicate(flow)).toBe(false);
    flow.request.headers[0]![1] = 'prod';
    expect(predicate(flow)).toBe(true);
  });

  it('sees the request target change', () => {
    const flow = makeFlow();
    const predicate = compileFilter('~u ^http://127\\.0\\.0\\.1:3000/api');
    expect(predicate(flow)).toBe(false);
    flow.request.host = '127.0.0.1';
    flow.request.port = 3000;
    flow.request.path = '/api/x';
    expect(predicate(flow)).toBe(true);
  });

  it('sees the response arrive', () => {
    const flow = makeFlow({ response: null });
    const predicate = compileFilter('~q');
    expect(predicate(flow)).toBe(true);
    flow.response = makeFlow().response;
    flow.phase = 'done';
    expect(predicate(flow)).toBe(false);
  });
});

describe('parseFilter', () => {
  it('returns the predicate and the expression', () => {
    const result = parseFilter('~m POST');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.expression).toBe('~m POST');
    expect(result.predicate(flows.api)).toBe(true);
    expect(result.predicate(flows.home)).toBe(false);
  });

  it('does not throw on a bad expression', () => {
    const result = parseFilter('~m (');
    expect(result.ok).toBe(false);
  });
});
