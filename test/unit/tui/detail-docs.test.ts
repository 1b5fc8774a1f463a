import { describe, expect, it } from 'vitest';
import { proxyOverheadMs, type Flow } from '../../../src/proxy/core/flow.js';
import { formatDuration } from '../../../src/tui/format.js';
import { availableTabs, tabDoc, type DetailTab } from '../../../src/tui/detail/tabs.js';
import type { Doc } from '../../../src/tui/doc.js';
import { colorTheme, monoTheme, themeFor } from '../../../src/tui/theme.js';
import { body, gzipBody, makeFlow, type DeepPartial } from '../../helpers/make-flow.js';

const text = (doc: Doc) => Array.from({ length: doc.length }, (_, i) => doc.text(i)).join('\n');

describe('detail tabs', () => {
  it.each<[string, DeepPartial<Flow>, DetailTab[]]>([
    ['http', {}, ['request', 'response', 'timing', 'raw']],
    ['websocket', { websocket: {} }, ['request', 'response', 'websocket', 'timing', 'raw']],
  ])('%s flows have %j', (_name, overrides, tabs) => expect(availableTabs(makeFlow(overrides))).toEqual(tabs));

  it.each<[string, DeepPartial<Flow>, DetailTab, string[]]>([
    [
      'request: line, connection, headers, query table, tags',
      { request: { scheme: 'https', path: '/search?q=proxy+ctl&page=2' }, tags: ['cache:HIT'], marked: true },
      'request',
      ['GET https://example.com/search?q=proxy+ctl&page=2 HTTP/1.1', 'client 127.0.0.1:50000 · TLSv1.3 · SNI example.com', 'tags: marked, cache:HIT', 'Headers (3)', 'Query (2)', 'q     proxy ctl', 'page  2', '(no body)'],
    ],
    [
      'request: a form body as a table',
      { request: { method: 'POST', headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: body('a=1&b=x+y') } },
      'request',
      ['Body · application/x-www-form-urlencoded · 9 B · form', 'a  1', 'b  x y'],
    ],
    [
      'response: gzip decoded, JSON pretty-printed',
      { response: { headers: [['Content-Type', 'application/json'], ['Content-Encoding', 'gzip']], body: gzipBody('{"ok":true}') } },
      'response',
      ['HTTP/1.1 200 OK', 'gzip decoded to 11 B · json', '"ok": true'],
    ],
    [
      'response: an undecodable body is shown as captured, with the reason',
      { response: { headers: [['Content-Type', 'text/plain'], ['Content-Encoding', 'gzip']], body: body('plain, not gzip') } },
      'response',
      ['shown as captured: cannot decode gzip', 'plain, not gzip'],
    ],
    [
      'response: the error of a failed flow',
      { response: null, error: { code: 'UPSTREAM_REFUSED', message: 'connect ECONNREFUSED 192.0.2.10:80' } },
      'response',
      ['Error UPSTREAM_REFUSED: connect ECONNREFUSED 192.0.2.10:80'],
    ],
    ['response: still waiting', { response: null }, 'response', ['No response yet (waiting).']],
    ['response: the tags, as on the request tab', { response: { status: 403 }, tags: ['blocked'], marked: true }, 'response', ['HTTP/1.1 403 Forbidden', 'tags: marked, blocked']],
    ['response: tags of a flow without a response', { response: null, error: { code: 'KILLED', message: 'dropped' }, tags: ['blocked'] }, 'response', ['Error KILLED: dropped', 'tags: blocked']],
    [
      'timing: marks and the proxy overhead',
      { timings: { requestHeaders: 1, upstreamConnect: 5, upstreamTls: null, upstreamSent: 9, firstByte: 30, responseEnd: 35 } },
      'timing',
      ['Request headers', '+1ms', 'Upstream connected', '+5ms', 'Total', '35ms', 'Waiting for server', '21ms', 'Proxy overhead'],
    ],
    [
      'websocket: messages with direction, type, size and preview',
      {
        websocket: {
          messages: [
            { direction: 'client', type: 'text', size: 5, payload: Buffer.from('hello'), truncated: false, time: Date.UTC(2024, 0, 1) },
            { direction: 'server', type: 'binary', size: 3, payload: Buffer.from([1, 2, 3]), truncated: false, time: Date.UTC(2024, 0, 1) },
          ],
          droppedMessages: 4,
          closedBy: 'server',
          closeCode: 1000,
          closeReason: 'bye',
        },
      },
      'websocket',
      ['2 messages · 4 more not kept · closed by server (1000 bye)', '→ text        5  hello', '← binary      3  01 02 03'],
    ],
    [
      'raw: both messages as HTTP/1 text, bodies as captured',
      { response: { headers: [['Content-Encoding', 'gzip']], body: gzipBody('zzz') } },
      'raw',
      ['GET / HTTP/1.1', 'User-Agent: curl/8.5.0', 'HTTP/1.1 200 OK', 'Content-Encoding: gzip', '00000000  1f 8b'],
    ],
  ])('%s', (_name, overrides, tab, parts) => {
    const out = text(tabDoc(makeFlow(overrides), tab, 100));
    for (const p of parts) expect(out).toContain(p);
  });

  it('colours the tags that say what a rule did as the list does', () => {
    const doc = tabDoc(makeFlow({ tags: ['blocked', 'cache:HIT', 'edited'] }), 'request', 100);
    const line = Array.from({ length: doc.length }, (_, i) => doc.line(i)).find((l) => l[0]?.text === 'tags: ')!;
    expect(line.map((s) => [s.text, s.role])).toEqual([
      ['tags: ', 'accent'],
      ['blocked', 'error'],
      [', ', 'accent'],
      ['cache:HIT', 'ok'],
      [', ', 'accent'],
      ['edited', 'accent'],
    ]);
  });

  it('shows the proxy overhead from the flow model', () => {
    const flow = makeFlow({ timings: { requestHeaders: 1, upstreamSent: 9 } });
    expect(text(tabDoc(flow, 'timing', 100))).toMatch(new RegExp(`Proxy overhead +${formatDuration(proxyOverheadMs(flow.timings))} `));
  });

  it('pages a 4 MiB body without building every row', () => {
    const big = Buffer.alloc(4 * 1024 * 1024, 0x01);
    const doc = tabDoc(makeFlow({ response: { headers: [['Content-Type', 'application/octet-stream']], body: body(big) } }), 'response', 100);
    expect(doc.length).toBeGreaterThan(262_144);
    expect(doc.text(doc.length - 1)).toMatch(/^003ffff0  01 01/);
  });
});

describe('themes', () => {
  it('NO_COLOR: the mono theme uses no colour at all', () => {
    for (const style of Object.values(monoTheme)) {
      expect(style.color).toBeUndefined();
      expect(style.backgroundColor).toBeUndefined();
    }
    expect(themeFor({ NO_COLOR: '1' })).toBe(monoTheme);
    expect(themeFor({})).toBe(colorTheme);
  });
  it('both themes style every role', () => {
    expect(Object.keys(monoTheme).sort()).toEqual(Object.keys(colorTheme).sort());
  });
});
