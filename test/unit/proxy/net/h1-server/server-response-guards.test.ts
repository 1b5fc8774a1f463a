/**
 * What the proxy's own HTTP/1.x server does with a response a handler gets wrong or abandons, over
 * real loopback sockets: writeHead refuses what could split the message (CR/LF/NUL in a value or
 * the reason phrase, a bad field name, an invalid status) before anything is sent, and
 * res.destroy() cuts the connection so the client sees the response incomplete.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { H1ServerResponse } from '../../../../../src/proxy/net/h1-server/outgoing.js';
import { exchange, fieldValues, head, serveWithClient as serve, stopAllH1Servers } from '../../../../helpers/h1-server.js';
import { once, waitFor } from '../../../../helpers/wait.js';

afterEach(stopAllH1Servers);

const GET11 = head('GET / HTTP/1.1', 'Host: x');

describe('what writeHead refuses', () => {
  /** Run `attempt` in the handler, then answer 500; return what it threw and the response. */
  async function refused(attempt: (res: H1ServerResponse) => void) {
    let thrown: unknown;
    const { raw } = await serve((_req, res) => {
      try {
        attempt(res);
      } catch (err) {
        thrown = err;
      }
      res.writeHead(500, { 'Content-Length': 0 }).end();
    });
    const res = await exchange(raw, GET11);
    return { thrown, res };
  }

  it.each([
    ['a CR/LF in a field value', (res: H1ServerResponse) => res.writeHead(200, { 'X-A': 'v\r\nInjected: yes' }), 'ERR_INVALID_CHAR'],
    ['a bare LF in a field value', (res: H1ServerResponse) => res.writeHead(200, { 'X-A': 'v\nInjected: yes' }), 'ERR_INVALID_CHAR'],
    ['a NUL in a field value', (res: H1ServerResponse) => res.writeHead(200, { 'X-A': 'v\0' }), 'ERR_INVALID_CHAR'],
    ['a CR/LF in the reason phrase', (res: H1ServerResponse) => res.writeHead(200, 'OK\r\nInjected: yes'), 'ERR_INVALID_CHAR'],
    ['a space in a field name', (res: H1ServerResponse) => res.writeHead(200, { 'X A': 'v' }), 'ERR_INVALID_HTTP_TOKEN'],
    ['a colon in a field name', (res: H1ServerResponse) => res.writeHead(200, [['Injected: yes\r\nX', 'v']]), 'ERR_INVALID_HTTP_TOKEN'],
    ['status 99', (res: H1ServerResponse) => res.writeHead(99), 'ERR_HTTP_INVALID_STATUS_CODE'],
    ['status 1000', (res: H1ServerResponse) => res.writeHead(1000), 'ERR_HTTP_INVALID_STATUS_CODE'],
    ['status 200.5', (res: H1ServerResponse) => res.writeHead(200.5), 'ERR_HTTP_INVALID_STATUS_CODE'],
  ])('throws on %s, sends nothing, and lets the handler answer after', async (_what, attempt, code) => {
    const { thrown, res } = await refused(attempt);
    expect(thrown).toMatchObject({ code });
    expect(res.statusLine).toBe('HTTP/1.1 500 Internal Server Error');
    expect(res.head).not.toContain('Injected');
    expect(fieldValues(res, 'x-a')).toEqual([]);
  }, 10_000);

  it('throws ERR_HTTP_HEADERS_SENT on a second writeHead', async () => {
    let thrown: unknown;
    const { raw } = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Length': 2 });
      try {
        res.writeHead(404);
      } catch (err) {
        thrown = err;
      }
      res.end('ok');
    });
    expect((await exchange(raw, GET11)).status).toBe(200);
    expect(thrown).toMatchObject({ code: 'ERR_HTTP_HEADERS_SENT' });
  }, 10_000);
});

describe('res.destroy()', () => {
  it('cuts the response: the client sees the connection close mid-body', async () => {
    let response: H1ServerResponse | undefined;
    const { srv, raw } = await serve((_req, res) => {
      response = res;
      res.writeHead(200, { 'Content-Length': 100 });
      res.write('partial');
      setTimeout(() => res.destroy(), 20);
    });
    await raw.write(GET11);
    const head = await raw.readHead();
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    const rest = await raw.readToEnd(3000);
    expect(rest.toString()).toBe('partial');
    await raw.closed(3000);
    await waitFor(() => srv.sockets[0]!.destroyed, { timeoutMs: 3000, message: 'the server socket destroyed' });
    expect(response!.writableFinished).toBe(false);
    expect(response!.destroyed).toBe(true);
  }, 10_000);

  it('emits close on the response after a normal end too', async () => {
    let response: H1ServerResponse | undefined;
    const { raw } = await serve((_req, res) => {
      response = res;
      res.end('ok');
    });
    await exchange(raw, GET11);
    await waitFor(() => response, { timeoutMs: 3000 });
    if (!response!.closed) await once(response!, 'close', 3000);
    expect(response!.writableFinished).toBe(true);
  }, 10_000);
});
