/**
 * A real browser through the real proxy (issue 3, item 5): headless Chromium, launched with the
 * arguments `proxyctl browser` uses, loads an HTTPS page served over h2 whose subresources come
 * from three host names, fetches JSON cross-origin and talks WebSocket. We check what the page
 * rendered, what the proxy logged for each flow, and what the origin saw on its side.
 */
import { createHash } from 'node:crypto';
import http2 from 'node:http2';
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Browser } from 'playwright-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../src/ca/index.js';
import { caDir } from '../../src/config/paths.js';
import { closeChromium, launchChromium } from '../helpers/chromium.js';
import { killAll, startCli, type CliProcess } from '../helpers/cli.js';
import { originCa, originCerts } from '../helpers/origin-certs.js';
import { makeTempHome, type TempHome } from '../helpers/test-ca.js';

const APP = 'app.origin.test';
const STATIC = 'static.origin.test';
const API = 'api.origin.test';
const WS_TEXT = 'hello over ws';

/** One request as the origin saw it. */
interface OriginRecord {
  host: string;
  path: string;
  /** `req.httpVersion`: '2.0' over h2, '1.1' for the WebSocket upgrade. */
  httpVersion: string;
}

/** The JSON access-log line (`--log-format json`), the fields this test reads. */
interface AccessLine {
  kind: string;
  method: string;
  url: string;
  httpVersion: string;
  status: number | null;
  error: unknown;
}

interface Origin {
  port: number;
  records: OriginRecord[];
  close(): Promise<void>;
}

// A 1×1 PNG.
const PIXEL = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

function page(port: number): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>proxyctl e2e</title>
<link rel="stylesheet" href="/style.css"></head><body>
<p id="script">script pending</p><p id="fetch">fetch pending</p><p id="ws">ws pending</p>
<img id="pixel" src="/pixel.png" alt="">
<script src="https://${STATIC}:${port}/app.js"></script>
</body></html>`;
}

function appJs(port: number): string {
  return `
const $ = (id) => document.getElementById(id);
$('script').textContent = 'static script ran';
let pending = 2;
const settle = () => { if (--pending === 0) document.body.dataset.done = 'yes'; };
fetch('https://${API}:${port}/api/data')
  .then((r) => r.json())
  .then((j) => { $('fetch').textContent = j.message; }, (e) => { $('fetch').textContent = 'fetch failed: ' + e; })
  .finally(settle);
const ws = new WebSocket('wss://${API}:${port}/ws');
ws.onopen = () => ws.send(${JSON.stringify(WS_TEXT)});
ws.onmessage = (e) => { $('ws').textContent = e.data; ws.close(1000, 'done'); };
ws.onerror = () => { $('ws').textContent = 'ws failed'; };
ws.onclose = settle;
`;
}

/**
 * The page's origin: h2 (HTTP/1.1 allowed, which Chromium uses for WebSockets) on one port for all
 * three names, which the proxy resolves to 127.0.0.1.
 */
async function startOrigin(): Promise<Origin> {
  const records: OriginRecord[] = [];
  const sockets = new Set<Duplex>();
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = http2.createSecureServer({ allowHTTP1: true, cert: originCerts.valid.cert, key: originCerts.valid.key });
  let port = 0;
  server.on('secureConnection', (s: Duplex) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {
      // Torn down by the proxy or by close(); the test judges by what was served.
    });
  });
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
    s.on('error', () => {
      // As above: a reset session only matters through the assertions.
    });
  });
  server.on('request', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    const host = hostOf(req.headers);
    const path = req.url;
    records.push({ host, path, httpVersion: req.httpVersion });
    const send = (status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...extra });
      res.end(body);
    };
    if (host === APP && path === '/') return send(200, 'text/html; charset=utf-8', page(port));
    if (host === APP && path === '/style.css') return send(200, 'text/css', 'body { background-color: rgb(1, 2, 3); }');
    if (host === APP && path === '/pixel.png') return send(200, 'image/png', PIXEL);
    if (host === STATIC && path === '/app.js') return send(200, 'text/javascript', appJs(port));
    if (host === API && path === '/api/data') {
      return send(200, 'application/json', JSON.stringify({ message: 'data from api over h2' }), {
        'access-control-allow-origin': `https://${APP}:${port}`,
      });
    }
    send(404, 'text/plain', 'not here\n');
  });
  server.on('upgrade', (req: import('node:http').IncomingMessage, socket: Duplex, head: Buffer) => {
    records.push({ host: hostOf(req.headers), path: req.url ?? '', httpVersion: req.httpVersion });
    if (req.url !== '/ws' || req.headers.upgrade?.toLowerCase() !== 'websocket') return void socket.destroy();
    acceptWebSocket(req.headers, socket, head);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('origin has no address');
  port = addr.port;
  return {
    port,
    records,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function hostOf(headers: IncomingHttpHeaders): string {
  const authority = headers[':authority'] ?? headers.host ?? '';
  return String(authority).replace(/:\d+$/, '');
}

/**
 * The server side of RFC 6455, as much as this test needs: the handshake (§4.2.2) and an echo of
 * short text frames (§5.2, client frames are masked), answering close and ping. No extensions are
 * accepted, so frames arrive uncompressed.
 */
function acceptWebSocket(headers: IncomingHttpHeaders, socket: Duplex, head: Buffer): void {
  const accept = createHash('sha1').update(`${headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  let buf = head;
  const frame = (opcode: number, payload: Buffer) => {
    // Server frames are unmasked; payloads here stay under 126 bytes or use the 16-bit length.
    const header = payload.length < 126 ? Buffer.from([0x80 | opcode, payload.length]) : Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff]);
    socket.write(Buffer.concat([header, payload]));
  };
  const onData = (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length < 2) return;
      const opcode = buf[0]! & 0x0f;
      let len = buf[1]! & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        return void socket.destroy(); // never sent by this page
      }
      if (buf.length < offset + 4 + len) return;
      const mask = buf.subarray(offset, offset + 4);
      const payload = Buffer.from(buf.subarray(offset + 4, offset + 4 + len));
      for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
      buf = buf.subarray(offset + 4 + len);
      if (opcode === 0x1) frame(0x1, Buffer.from(`echo: ${payload.toString('utf8')}`));
      else if (opcode === 0x9) frame(0xa, payload);
      else if (opcode === 0x8) {
        frame(0x8, payload);
        socket.end();
        return;
      }
    }
  };
  socket.on('data', onData);
  socket.on('error', () => {
    // The proxy may reset the connection on teardown; the assertions cover what matters.
  });
  if (head.length) onData(Buffer.alloc(0));
}

describe('Chromium through proxyctl (e2e)', { timeout: 60_000 }, () => {
  let temp: TempHome | null = null;
  let origin: Origin | null = null;
  let proxy: CliProcess | null = null;
  let browser: Browser | null = null;

  beforeEach(async () => {
    temp = await makeTempHome();
    origin = await startOrigin();
    proxy = await startCli(
      // `*=127.0.0.1` sends Chromium's own background requests (update checks, account probes)
      // to loopback, where they are refused, instead of a real DNS lookup.
      ['--resolve', `${APP}=127.0.0.1`, '--resolve', `${STATIC}=127.0.0.1`, '--resolve', `${API}=127.0.0.1`, '--resolve', '*=127.0.0.1', '--log-format', 'json'],
      { env: { NODE_EXTRA_CA_CERTS: originCa.certPath }, home: temp.home },
    );
  }, 30_000);

  afterEach(async () => {
    const steps: Array<() => Promise<unknown>> = [
      () => closeChromium(browser),
      () => proxy?.stop() ?? Promise.resolve(),
      () => killAll(),
      () => origin?.close() ?? Promise.resolve(),
      () => temp?.cleanup() ?? Promise.resolve(),
    ];
    browser = null;
    const failures: unknown[] = [];
    // Every step runs even if an earlier one fails, so nothing outlives the test.
    for (const step of steps) await step().catch((e: unknown) => failures.push(e));
    proxy = null;
    origin = null;
    temp = null;
    if (failures.length) throw failures[0];
  }, 30_000);

  it('renders a page from three hosts with fetch and WebSocket, over h2, and the proxy records every flow', async () => {
    const ca = await CertificateAuthority.loadOrCreate({ dir: caDir(temp!.home) });
    browser = await launchChromium({ proxyUrl: proxy!.url, spkiSha256: ca.spkiSha256 });
    const context = await browser.newContext();
    const tab = await context.newPage();
    const browserLog: string[] = [];
    tab.on('console', (m) => browserLog.push(`console.${m.type()}: ${m.text()}`));
    tab.on('requestfailed', (r) => browserLog.push(`failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
    const port = origin!.port;
    const diagnostics = () =>
      [
        `browser:\n  ${browserLog.join('\n  ')}`,
        `proxy lines:\n  ${proxy!.lines.join('\n  ')}`,
        `proxy stderr:\n  ${proxy!.stderr}`,
        `origin saw:\n  ${origin!.records.map((r) => `${r.httpVersion} ${r.host}${r.path}`).join('\n  ')}`,
      ].join('\n');

    const response = await tab.goto(`https://${APP}:${port}/`, { timeout: 20_000, waitUntil: 'load' });
    expect(response?.status(), diagnostics()).toBe(200);
    // Page-side code is passed as text: this project compiles without the DOM library.
    await tab.waitForFunction("document.body.dataset.done === 'yes'", null, { timeout: 15_000 }).catch(() => {
      throw new Error(`the page did not finish its fetch and WebSocket exchange\n${diagnostics()}`);
    });

    // What the page rendered.
    const rendered = await tab.evaluate<unknown>(`({
      script: document.getElementById('script').textContent,
      fetch: document.getElementById('fetch').textContent,
      ws: document.getElementById('ws').textContent,
      pixel: document.getElementById('pixel').naturalWidth,
      background: getComputedStyle(document.body).backgroundColor,
    })`);
    expect(rendered, diagnostics()).toEqual({
      script: 'static script ran',
      fetch: 'data from api over h2',
      ws: `echo: ${WS_TEXT}`,
      pixel: 1,
      background: 'rgb(1, 2, 3)',
    });

    // What the proxy recorded: one JSON line per finished flow.
    const flowFor = async (re: RegExp): Promise<AccessLine> => {
      const line = await proxy!.waitForLine(re, 10_000).catch((e: Error) => {
        throw new Error(`${e.message}\n${diagnostics()}`);
      });
      return JSON.parse(line) as AccessLine;
    };
    const esc = (s: string) => s.replaceAll('.', '\\.');
    const http = (host: string, path: string) => new RegExp(`"url":"https://${esc(host)}:${port}${esc(path)}"`);
    const pageFlow = await flowFor(http(APP, '/'));
    const css = await flowFor(http(APP, '/style.css'));
    const pixel = await flowFor(http(APP, '/pixel.png'));
    const script = await flowFor(http(STATIC, '/app.js'));
    const data = await flowFor(http(API, '/api/data'));
    const ws = await flowFor(new RegExp(`"kind":"websocket".*"url":"(wss|https)://${esc(API)}:${port}/ws"`));

    for (const flow of [pageFlow, css, pixel, script, data]) {
      expect({ url: flow.url, kind: flow.kind, status: flow.status, error: flow.error }, diagnostics()).toEqual({ url: flow.url, kind: 'http', status: 200, error: null });
      // The client leg: Chromium negotiated h2 with the proxy's TLS terminator.
      expect(flow.httpVersion, `${flow.url}\n${diagnostics()}`).toBe('2');
    }
    expect(ws.status, diagnostics()).toBe(101);
    expect(ws.error, diagnostics()).toBeNull();

    // What the origin saw: the proxy spoke h2 upstream to each host; the WebSocket came over HTTP/1.1.
    const saw = (host: string, path: string) => origin!.records.find((r) => r.host === host && r.path === path);
    expect(saw(APP, '/')?.httpVersion, diagnostics()).toBe('2.0');
    expect(saw(STATIC, '/app.js')?.httpVersion, diagnostics()).toBe('2.0');
    expect(saw(API, '/api/data')?.httpVersion, diagnostics()).toBe('2.0');
    expect(saw(API, '/ws')?.httpVersion, diagnostics()).toBe('1.1');
  });
});
