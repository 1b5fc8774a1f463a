/**
 * Client access control through the real proxy (issue 6 point 4): allow and deny lists of client
 * addresses and CIDR ranges, checked on accept. A refused client gets a short 403 naming the
 * reason and the connection is closed; nothing is proxied, so no flow is recorded. The default
 * admits loopback only (127.0.0.0/8 and ::1), so a proxy on 0.0.0.0 is not an open proxy.
 *
 * Other client addresses come from binding the client socket to 127.0.0.2 / 127.0.0.3 (the whole
 * 127.0.0.0/8 is loopback on Linux); a non-loopback client cannot be made here.
 */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, startCli } from '../helpers/cli.js';
import { curlRequest } from '../helpers/curl.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startProxy, stopAllProxies, type TestProxy } from '../helpers/proxy.js';
import { makeTempHome, type TempHome } from '../helpers/test-ca.js';
import { waitFor } from '../helpers/wait.js';

interface NodeResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One absolute-form GET through the proxy with Node's http client, from `localAddress`. */
function getViaProxy(proxy: { port: number }, url: string, opts: { localAddress?: string; proxyHost?: string } = {}): Promise<NodeResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: opts.proxyHost ?? '127.0.0.1',
      port: proxy.port,
      method: 'GET',
      path: url,
      headers: { host: new URL(url).host },
      agent: false,
      signal: AbortSignal.timeout(5000),
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Write `bytes` on a raw connection from `localAddress` and collect everything until the proxy
 * closes the connection (bounded).
 */
function rawFrom(port: number, localAddress: string, bytes: string, sockets: Set<net.Socket>, timeoutMs = 5000): Promise<{ text: string; closedByPeer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    sockets.add(socket);
    const chunks: Buffer[] = [];
    let connected = false;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closedByPeer: false });
    }, timeoutMs);
    socket.on('connect', () => {
      connected = true;
      socket.write(bytes);
    });
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err) => {
      if (!connected) {
        clearTimeout(timer);
        reject(err);
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closedByPeer: true });
    });
  });
}

/** Whether this machine can listen on ::1 (IPv6 loopback). */
async function ipv6LoopbackListen(): Promise<{ ok: true } | { ok: false; code: string }> {
  const server = net.createServer();
  try {
    server.listen(0, '::1');
    await once(server, 'listening');
    return { ok: true };
  } catch (err) {
    return { ok: false, code: (err as NodeJS.ErrnoException).code ?? String(err) };
  } finally {
    server.close();
  }
}

describe('client access control', () => {
  const origins: Origin[] = [];
  const sockets = new Set<net.Socket>();
  const homes: TempHome[] = [];

  async function origin(): Promise<Origin> {
    const o = await startOrigin();
    origins.push(o);
    return o;
  }

  afterEach(async () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    await killAll();
    await stopAllProxies();
    await Promise.all(origins.splice(0).map((o) => o.close()));
    await Promise.all(homes.splice(0).map((h) => h.cleanup()));
  });

  function expectNoFlows(proxy: TestProxy): void {
    expect(proxy.flows()).toEqual([]);
  }

  describe('allow list', () => {
    it('allow only 127.0.0.1: a client from 127.0.0.2 gets a 403 naming the reason, no flow is recorded, nothing reaches the origin', async () => {
      const o = await origin();
      const proxy = await startProxy({ config: { access: { allow: ['127.0.0.1'] } } });
      const logs: string[] = [];
      proxy.runtime.bus.on('log', (e) => logs.push(`${e.level}: ${e.message}`));

      const res = await getViaProxy(proxy, `${o.url}/hello`, { localAddress: '127.0.0.2' });
      expect(res.status).toBe(403);
      expect(res.headers['connection']).toBe('close');
      expect(res.body).toBe('proxyctl: access denied: 127.0.0.2 is not in access.allow (127.0.0.1)\n');
      expect(o.requests).toHaveLength(0);
      expect(o.connections).toBe(0);
      expectNoFlows(proxy);
      expect(logs).toContain('warn: refused a connection: 127.0.0.2 is not in access.allow (127.0.0.1)');

      // 127.0.0.1 still works.
      const ok = await getViaProxy(proxy, `${o.url}/hello`, { localAddress: '127.0.0.1' });
      expect(ok.status).toBe(200);
      expect(ok.body).toBe('hello');
      const flows = await proxy.waitForFlows(1);
      expect(flows).toHaveLength(1);
      expect(flows[0]!.client.address).toBe('127.0.0.1');
    });

    it('refuses a CONNECT from 127.0.0.2 the same way: 403, the connection closed, no tunnel and no flow', async () => {
      const o = await origin();
      const proxy = await startProxy({ flags: { allow: ['127.0.0.1'] } });
      const { text, closedByPeer } = await rawFrom(proxy.port, '127.0.0.2', `CONNECT 127.0.0.1:${o.port} HTTP/1.1\r\nHost: 127.0.0.1:${o.port}\r\n\r\n`, sockets);
      expect(closedByPeer).toBe(true);
      const [head, body] = text.split('\r\n\r\n');
      const lines = head!.split('\r\n');
      expect(lines[0]).toBe('HTTP/1.1 403 Forbidden');
      expect(lines).toContain('Connection: close');
      expect(lines).toContain(`Content-Length: ${Buffer.byteLength(body!)}`);
      expect(body).toBe('proxyctl: access denied: 127.0.0.2 is not in access.allow (127.0.0.1)\n');
      expect(o.connections).toBe(0);
      expectNoFlows(proxy);
    });

    it('answers a refused client that sends nothing, and does so before it sends anything', async () => {
      const proxy = await startProxy({ config: { access: { allow: ['127.0.0.1'] } } });
      const { text, closedByPeer } = await rawFrom(proxy.port, '127.0.0.2', '', sockets);
      expect(closedByPeer).toBe(true);
      expect(text).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
      expectNoFlows(proxy);
    });

    it('notes refusals in the event log at most once a second, counting the ones in between', async () => {
      const proxy = await startProxy({ config: { access: { allow: ['127.0.0.1'] } } });
      const notes: string[] = [];
      proxy.runtime.bus.on('log', (e) => {
        if (e.message.startsWith('refused a connection')) notes.push(e.message);
      });
      const reason = '127.0.0.2 is not in access.allow (127.0.0.1)';
      for (let i = 0; i < 3; i++) expect((await rawFrom(proxy.port, '127.0.0.2', '', sockets)).text).toMatch(/^HTTP\/1\.1 403 /);
      expect(notes).toEqual([`refused a connection: ${reason}`]);
      await new Promise((r) => setTimeout(r, 1050));
      expect((await rawFrom(proxy.port, '127.0.0.2', '', sockets)).text).toMatch(/^HTTP\/1\.1 403 /);
      expect(notes).toEqual([`refused a connection: ${reason}`, `refused a connection: ${reason} (2 more since the last note)`]);
      expectNoFlows(proxy);
    });

    // Known bug (see the report): refuse() ends its side and keeps reading with no timer, so a refused
    // client that never closes holds the connection (a file descriptor) forever, past every timeout
    // an admitted client is held to.
    it('a refused client that never closes its side cannot hold the connection open past the idle timeout', async () => {
      const proxy = await startProxy({ config: { access: { allow: ['127.0.0.1'] } }, net: { clientIdleTimeoutMs: 300, headersTimeoutMs: 300 } });
      const socket = net.connect({ host: '127.0.0.1', port: proxy.port, localAddress: '127.0.0.2', allowHalfOpen: true });
      sockets.add(socket);
      let received = '';
      let torn = false;
      socket.on('data', (c: Buffer) => (received += c.toString('latin1')));
      socket.on('error', () => (torn = true)); // EPIPE / ECONNRESET once the proxy has closed
      socket.on('close', () => (torn = true));
      await once(socket, 'connect');
      // The client keeps the connection alive the way a slow or hostile client does: a byte now and then.
      const ticker = setInterval(() => socket.writable && socket.write('x'), 100);
      try {
        await waitFor(() => received.startsWith('HTTP/1.1 403 '), { message: 'the 403' });
        await waitFor(() => torn && proxy.runtime.proxy.openConnections === 0, {
          timeoutMs: 5000,
          message: `the proxy to close the refused connection (open connections: ${proxy.runtime.proxy.openConnections})`,
        });
      } finally {
        clearInterval(ticker);
      }
    });

    it('admits a CIDR range and refuses addresses outside it', async () => {
      const o = await origin();
      const proxy = await startProxy({ config: { access: { allow: ['127.0.0.0/31'] } } });
      expect((await getViaProxy(proxy, `${o.url}/hello`, { localAddress: '127.0.0.1' })).status).toBe(200);
      const refused = await getViaProxy(proxy, `${o.url}/hello`, { localAddress: '127.0.0.2' });
      expect(refused.status).toBe(403);
      expect(refused.body).toContain('127.0.0.2 is not in access.allow (127.0.0.0/31)');
      expect(o.requests).toHaveLength(1);
    });

    it('--allow on the command line replaces access.allow of the config file', async () => {
      const o = await origin();
      const proxy = await startProxy({ config: { access: { allow: ['127.0.0.1'] } }, flags: { allow: ['127.0.0.2'] } });
      expect((await getViaProxy(proxy, `${o.url}/hello`, { localAddress: '127.0.0.2' })).status).toBe(200);
      const refused = await getViaProxy(proxy, `${o.url}/hello`, { localAddress: '127.0.0.1' });
      expect(refused.status).toBe(403);
      expect(refused.body).toContain('127.0.0.1 is not in access.allow (127.0.0.2)');
    });
  });

  describe('deny list', () => {
    it('deny wins over allow: 127.0.0.2 is refused although allow has 127.0.0.0/8; 127.0.0.3 is admitted', async () => {
      const o = await origin();
      const proxy = await startProxy({ config: { access: { allow: ['127.0.0.0/8'], deny: ['127.0.0.2'] } } });
      const refused = await getViaProxy(proxy, `${o.url}/hello`, { localAddress: '127.0.0.2' });
      expect(refused.status).toBe(403);
      expect(refused.body).toBe('proxyctl: access denied: 127.0.0.2 is in access.deny (127.0.0.2)\n');
      expectNoFlows(proxy);
      const ok = await getViaProxy(proxy, `${o.url}/hello`, { localAddress: '127.0.0.3' });
      expect(ok.status).toBe(200);
      const flows = await proxy.waitForFlows(1);
      expect(flows.map((f) => f.client.address)).toEqual(['127.0.0.3']);
      expect(o.requests).toHaveLength(1);
    });

    it('a deny list alone keeps the loopback-only default for allow', async () => {
      const o = await origin();
      const proxy = await startProxy({ config: { access: { deny: ['127.0.0.2/32'] } } });
      expect((await getViaProxy(proxy, `${o.url}/hello`, { localAddress: '127.0.0.2' })).status).toBe(403);
      expect((await getViaProxy(proxy, `${o.url}/hello`, { localAddress: '127.0.0.1' })).status).toBe(200);
    });
  });

  describe('default (no access config)', () => {
    it('admits any IPv4 loopback address, such as 127.0.0.2', async () => {
      const o = await origin();
      const proxy = await startProxy();
      const res = await getViaProxy(proxy, `${o.url}/hello`, { localAddress: '127.0.0.2' });
      expect(res.status).toBe(200);
      expect(res.body).toBe('hello');
      const flows = await proxy.waitForFlows(1);
      expect(flows[0]!.client.address).toBe('127.0.0.2');
    });

    it('admits an IPv6 ::1 client (or this machine has no IPv6 loopback, which the test states)', async () => {
      const v6 = await ipv6LoopbackListen();
      if (!v6.ok) {
        // No ::1 here: the proxy cannot even listen there, and says so.
        expect(v6.code).toMatch(/^(EADDRNOTAVAIL|EAFNOSUPPORT)$/);
        await expect(startProxy({ flags: { host: '::1' } })).rejects.toThrow(/EADDRNOTAVAIL|EAFNOSUPPORT/);
        return;
      }
      const o = await origin();
      const proxy = await startProxy({ flags: { host: '::1' } });
      expect(proxy.url).toBe(`http://[::1]:${proxy.port}`);
      const res = await curlRequest(`${o.url}/hello`, { proxy: proxy.url });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('hello');
      const flows = await proxy.waitForFlows(1);
      expect(flows[0]!.client.address).toBe('::1');
    });

    it('an explicit allow list without ::1 refuses the IPv6 loopback client', async () => {
      const v6 = await ipv6LoopbackListen();
      if (!v6.ok) {
        expect(v6.code).toMatch(/^(EADDRNOTAVAIL|EAFNOSUPPORT)$/);
        return;
      }
      const o = await origin();
      const proxy = await startProxy({ flags: { host: '::1' }, config: { access: { allow: ['127.0.0.0/8'] } } });
      const res = await getViaProxy(proxy, `${o.url}/hello`, { proxyHost: '::1' });
      expect(res.status).toBe(403);
      expect(res.body).toBe('proxyctl: access denied: ::1 is not in access.allow (127.0.0.0/8)\n');
      expectNoFlows(proxy);
    });
  });

  describe('CLI', () => {
    it('--host 0.0.0.0 with default settings notes that only loopback clients are admitted, and serves loopback', async () => {
      const home = await makeTempHome();
      homes.push(home);
      const o = await origin();
      const cli = await startCli(['--host', '0.0.0.0'], { home: home.home });
      expect(cli.host).toBe('0.0.0.0');
      await waitFor(() => cli.stderr.includes('only loopback clients are admitted'), { message: 'the loopback-only note on stderr', timeoutMs: 5000 });
      expect(cli.stderr).toContain('proxyctl: note: only loopback clients are admitted; set access.allow in the config (or --allow CIDR) to admit others');
      const res = await curlRequest(`${o.url}/hello`, { proxy: `http://127.0.0.1:${cli.port}` });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('hello');
      await cli.waitForLine(new RegExp(`^\\S+ 127\\.0\\.0\\.1:\\d+ GET http://127\\.0\\.0\\.1:${o.port}/hello 200 `));
    });

    it('--allow 127.0.0.1: a client from 127.0.0.2 is refused with a warning on stderr and no access-log line', async () => {
      const home = await makeTempHome();
      homes.push(home);
      const o = await origin();
      const cli = await startCli(['--host', '0.0.0.0', '--allow', '127.0.0.1'], { home: home.home });
      const refused = await getViaProxy(cli, `${o.url}/hello`, { localAddress: '127.0.0.2' });
      expect(refused.status).toBe(403);
      expect(refused.body).toContain('127.0.0.2 is not in access.allow (127.0.0.1)');
      await waitFor(() => cli.stderr.includes('refused a connection'), { message: 'the refusal warning on stderr' });
      expect(cli.stderr).toContain('proxyctl: warn: refused a connection: 127.0.0.2 is not in access.allow (127.0.0.1)');
      // An explicit allow list: no loopback-only note.
      expect(cli.stderr).not.toContain('only loopback clients are admitted');
      const ok = await getViaProxy(cli, `${o.url}/hello`, { localAddress: '127.0.0.1' });
      expect(ok.status).toBe(200);
      await cli.waitForLine(new RegExp(`/hello 200 `));
      expect(cli.lines.filter((l) => l.includes('/hello'))).toHaveLength(1);
      expect(o.requests).toHaveLength(1);
    });
  });
});
