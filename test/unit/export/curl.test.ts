import { describe, expect, it } from 'vitest';
import { quote, toCurl } from '../../../src/export/curl.js';
import type { Flow } from '../../../src/proxy/core/flow.js';
import { body, makeFlow, type DeepPartial } from '../../helpers/make-flow.js';

describe('toCurl', () => {
  it.each<[string, DeepPartial<Flow>, string]>([
    ['a plain GET (Host matching the URL is implied)', {}, "curl http://example.com/ -H 'User-Agent: curl/8.5.0' -H 'Accept: */*'"],
    [
      'query strings are quoted',
      { request: { path: '/a?b=1&c=2', headers: [] } },
      "curl 'http://example.com/a?b=1&c=2'",
    ],
    [
      'https with a port and HTTP/2',
      { request: { scheme: 'https', host: 'api.example', port: 8443, httpVersion: '2', headers: [[':authority', 'api.example:8443'], ['accept', 'application/json']] } },
      "curl https://api.example:8443/ --http2 -H 'accept: application/json'",
    ],
    [
      'hop-by-hop, Connection-named and Content-Length fields are dropped; accept-encoding becomes --compressed',
      {
        request: {
          headers: [
            ['Host', 'example.com'],
            ['Connection', 'keep-alive, X-Hop'],
            ['X-Hop', '1'],
            ['Keep-Alive', 'timeout=5'],
            ['Proxy-Authorization', 'Basic eDp5'],
            ['Content-Length', '0'],
            ['Accept-Encoding', 'gzip, br'],
            ['X-Keep', 'yes'],
          ],
        },
      },
      "curl http://example.com/ -H 'X-Keep: yes' --compressed",
    ],
    [
      'a Host different from the URL is kept',
      { request: { headers: [['Host', 'other.example']] } },
      "curl http://example.com/ -H 'Host: other.example'",
    ],
    [
      'POST with a text body needs no -X',
      { request: { method: 'POST', headers: [['Content-Type', 'application/json']], body: body('{"a":"it\'s"}') } },
      `curl http://example.com/ -H 'Content-Type: application/json' --data-binary '{"a":"it'\\''s"}'`,
    ],
    [
      'PUT with a multi-line body uses $\'…\' escapes',
      { request: { method: 'PUT', headers: [], body: body('line1\nline2\t\\ \'q\'') } },
      "curl -X PUT http://example.com/ --data-binary $'line1\\nline2\\t\\\\ \\'q\\''",
    ],
    [
      'non-UTF-8 bytes are escaped exactly',
      { request: { method: 'POST', headers: [], body: body(Buffer.from([0xff, 0x41, 0x0d, 0x7f])) } },
      "curl http://example.com/ --data-binary $'\\xffA\\r\\x7f'",
    ],
    [
      'UTF-8 text stays readable',
      { request: { method: 'POST', headers: [], body: body('héllo ✓') } },
      "curl http://example.com/ --data-binary 'héllo ✓'",
    ],
    [
      'a body with NUL bytes is piped through printf',
      { request: { method: 'POST', headers: [], body: body(Buffer.from([0x61, 0x00, 0x25, 0x0a])) } },
      "printf 'a\\000%%\\012' | curl http://example.com/ --data-binary @-",
    ],
    ['DELETE', { request: { method: 'DELETE', headers: [] } }, 'curl -X DELETE http://example.com/'],
    ['HEAD uses --head (curl -X HEAD would wait for a body)', { request: { method: 'HEAD', headers: [] } }, 'curl --head http://example.com/'],
    ['GET with a body keeps -X GET', { request: { method: 'GET', headers: [], body: body('x') } }, "curl -X GET http://example.com/ --data-binary 'x'"],
    ['HTTP/1.0', { request: { httpVersion: '1.0', headers: [] } }, 'curl http://example.com/ --http1.0'],
    ['IPv6 host', { request: { host: '::1', port: 8080, headers: [] } }, "curl 'http://[::1]:8080/'"],
    [
      'control characters in header values',
      { request: { headers: [['X-Odd', 'a\x1bb']] } },
      "curl http://example.com/ -H $'X-Odd: a\\x1bb'",
    ],
    [
      'a truncated body says so in a trailing comment',
      { request: { method: 'POST', headers: [], body: body('abcdef', { limit: 3 }) } },
      "curl http://example.com/ --data-binary 'abc' # request body truncated: 3 of 6 bytes captured",
    ],
  ])('%s', (_name, overrides, expected) => {
    expect(toCurl(makeFlow(overrides))).toBe(expected);
  });
});

describe('quote', () => {
  it.each([
    ['simple', 'simple'],
    ['http://a.example/x', 'http://a.example/x'],
    ['', "''"],
    ['a b', "'a b'"],
    ["it's", "'it'\\''s'"],
    ['$HOME', "'$HOME'"],
    ['a\nb', "$'a\\nb'"],
  ])('%j → %s', (input, expected) => {
    expect(quote(input)).toBe(expected);
  });
});
