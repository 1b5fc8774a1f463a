import { describe, expect, it } from 'vitest';
import { toRaw } from '../../../src/export/raw.js';
import { body, makeFlow } from '../../helpers/make-flow.js';

describe('raw HTTP export', () => {
  it('writes request and response as HTTP/1.1 text with their bodies', () => {
    const text = toRaw(
      makeFlow({
        id: 'f1',
        request: { method: 'POST', path: '/a?b=1', headers: [['Host', 'example.com'], ['Content-Type', 'text/plain']], body: body('ping') },
        response: { headers: [['Content-Type', 'text/plain']], body: body('pong\n') },
      }),
    );
    expect(text).toBe(
      ['### f1 2024-01-01T00:00:00.000Z POST http://example.com/a?b=1', 'POST /a?b=1 HTTP/1.1', 'Host: example.com', 'Content-Type: text/plain', '', 'ping', '', 'HTTP/1.1 200 OK', 'Content-Type: text/plain', '', 'pong\n'].join('\n') + '\n',
    );
  });

  it('shows HTTP/2 in HTTP/1.1 form: Host from :authority, no pseudo-headers', () => {
    const text = toRaw(makeFlow({ request: { scheme: 'https', httpVersion: '2', headers: [[':method', 'GET'], [':authority', 'example.com'], ['accept', '*/*']] }, response: { headers: [[':status', '200']], body: body('') } }));
    expect(text).toContain('GET / HTTP/1.1\nHost: example.com\naccept: */*\n');
    expect(text).not.toContain(':status');
  });

  it('marks binary and truncated bodies and gives binary ones in base64', () => {
    const text = toRaw(makeFlow({ response: { body: body(Buffer.from([0, 1, 2, 3, 0xff]), { limit: 3 }) } }));
    expect(text).toContain('<<truncated: 3 of 5 bytes captured>>\n<<binary body: 3 bytes, base64>>\nAAEC\n');
  });

  it('says why there is no response', () => {
    expect(toRaw(makeFlow({ response: null, error: { code: 'UPSTREAM_TIMEOUT', message: 'no answer in 60 s' } }))).toContain('(no response: UPSTREAM_TIMEOUT: no answer in 60 s)');
  });
});
