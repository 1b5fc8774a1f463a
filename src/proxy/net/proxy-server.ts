import net from 'node:net';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createIdGenerator } from '../core/ids.js';
import { isIpLiteral } from '../core/authority.js';
import { hasHook } from '../core/pipeline.js';
import type { ExchangeEnv } from './exchange.js';
import { FlowEmitter } from './flow-emitter.js';
import { createH1Server } from './h1-server.js';
import type { H1Server } from './h1-server/server.js';
import type { ProxyDeps, ProxyOptions } from './options.js';
import { kClientAddr, kTarget, type TunnelTarget } from './socket-facts.js';
import { terminateTls, type TerminatorDeps } from './tls-terminator.js';
import { closingResponse } from './raw-response.js';
import { openTunnel } from './tunnel.js';
import { acceptSocks5 } from './socks5.js';
import { clientInfoOf, normalizeAddress } from './client-info.js';
import { UpstreamPool } from './upstream.js';
import { H2Sessions } from './upstream-h2.js';
import { createH2Adapter, PrependedStream, type H2Adapter } from './h2-server.js';

const TLS_HANDSHAKE = 0x16;
/** First byte of a SOCKS5 greeting (RFC 1928 §3). */
const SOCKS5_VERSION = 0x05;
/** How long a refused client's connection may stay open after the 403 was sent. */
const REFUSED_LINGER_MS = 2000;

/**
 * The listener and the composition of the network drivers (DESIGN.md §3): accept, sniff the first
 * bytes, and route to the TLS terminator or the HTTP/1 adapter. CONNECT tunnels re-enter `sniff`.
 */
export class ProxyServer {
  readonly emitter: FlowEmitter;
  private readonly env: ExchangeEnv;
  private readonly listener: net.Server;
  private readonly h1: H1Server;
  private readonly h2: H2Adapter;
  private readonly sockets = new Set<net.Socket>();
  /**
   * Per-connection listeners shared by every socket (they find their socket through `this`), so an
   * idle connection costs no closures of ours (issue 9: memory per idle connection).
   */
  private readonly untrack: (this: net.Socket) => void;
  /** TLS terminator settings for a tunnel's TLS and for TLS straight to the listener, made once. */
  private readonly tlsInTunnel: TerminatorDeps;
  private readonly tlsDirect: TerminatorDeps;
  private address: AddressInfo | null = null;
  private stopping = false;
  private refused = 0;
  private lastRefusalLog = 0;

  constructor(
    private readonly opts: ProxyOptions,
    private readonly deps: ProxyDeps,
  ) {
    this.emitter = new FlowEmitter(deps.bus);
    this.env = { opts, deps, pool: new UpstreamPool(opts), h2: new H2Sessions(opts), emitter: this.emitter, newId: createIdGenerator() };
    this.h1 = createH1Server(this.env, {
      onTunnel: (socket, target, head, httpVersion) => this.onConnect(socket, target, head, httpVersion),
      isSelf: (host, port) => this.isSelf(host, port),
      isPassthrough: (target) => this.isIgnored(target),
      port: () => this.port,
    });
    this.h2 = createH2Adapter(this.env, (host, port) => this.isSelf(host, port));
    const sockets = this.sockets;
    this.untrack = function untrack(this: net.Socket) {
      sockets.delete(this);
    };
    this.tlsInTunnel = this.terminatorDeps(true);
    this.tlsDirect = this.terminatorDeps(false);
    this.listener = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.listener.on('error', (err) => deps.bus.log('error', `listener error: ${err.message}`));
  }

  /** Start listening; resolves with the bound address (the real port when 0 was asked). */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.listener.once('error', onError);
      this.listener.listen(this.opts.port, this.opts.host, () => {
        this.listener.off('error', onError);
        this.address = this.listener.address() as AddressInfo;
        resolve(this.address);
      });
    });
  }

  get port(): number {
    return this.address?.port ?? this.opts.port;
  }

  /** Connections currently open (for metrics and shutdown). */
  get openConnections(): number {
    return this.sockets.size;
  }

  /**
   * Stop accepting, let flows in flight finish until the deadline, then close what is left.
   */
  async stop(deadlineMs = 5000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const closed = new Promise<void>((resolve) => this.listener.close(() => resolve()));
    this.h1.closeIdleConnections();
    this.h2.close();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.emitter.drained(), new Promise<void>((r) => (timer = setTimeout(r, deadlineMs)))]);
    clearTimeout(timer);
    for (const s of this.sockets) s.destroy();
    this.h1.close();
    this.env.pool.destroy();
    this.env.h2.destroy();
    await closed;
  }

  private accept(socket: net.Socket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.on('close', this.untrack);
    socket.on('error', ignoreSocketError);
    const address = normalizeAddress(socket.remoteAddress);
    socket[kClientAddr] = { address, port: socket.remotePort ?? 0 };
    const refusal = this.deps.admit?.(address) ?? null;
    if (refusal !== null) {
      this.refuse(socket, refusal);
      return;
    }
    this.sniff(socket, undefined);
  }

  /**
   * A client the access lists do not admit: a short 403 (proxy clients speak HTTP/1 first) and
   * the connection closed, with a note in the event log, at most one per second so a scan cannot
   * flood it. No flow is recorded: nothing was proxied.
   */
  private refuse(socket: net.Socket, reason: string): void {
    socket.end(closingResponse(403, [['Content-Type', 'text/plain; charset=utf-8']], `proxyctl: access denied: ${reason}\n`));
    socket.resume();
    // A refused client gets no more time than it takes to read the answer.
    const timer = setTimeout(() => socket.destroy(), Math.min(this.opts.clientIdleTimeoutMs, REFUSED_LINGER_MS));
    socket.once('close', () => clearTimeout(timer));
    this.refused++;
    const now = Date.now();
    if (now - this.lastRefusalLog >= 1000) {
      const more = this.refused > 1 ? ` (${this.refused - 1} more since the last note)` : '';
      this.deps.bus.log('warn', `refused a connection: ${reason}${more}`);
      this.lastRefusalLog = now;
      this.refused = 0;
    }
  }

  /** Look at the first bytes and route the connection. */
  private sniff(socket: net.Socket, target: TunnelTarget | undefined): void {
    const timer = setTimeout(() => socket.destroy(), this.opts.clientIdleTimeoutMs);
    const onClose = () => clearTimeout(timer);
    socket.once('close', onClose);
    socket.once('data', (chunk: Buffer) => {
      clearTimeout(timer);
      socket.off('close', onClose);
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === TLS_HANDSHAKE) this.startTls(socket, target);
      else if (chunk[0] === SOCKS5_VERSION && target === undefined && this.opts.mode.kind === 'socks5') this.startSocks5(socket);
      else if (chunk.length >= 3 && chunk[0] === 0x50 && chunk[1] === 0x52 && chunk[2] === 0x49) {
        // "PRI * HTTP/2.0": HTTP/2 with prior knowledge (RFC 9113 §3.3).
        this.startH2Plain(socket, target);
      } else this.startH1(socket, target);
    });
  }

  /** A SOCKS5 client (socks5 mode): its CONNECT re-enters `sniff` like an HTTP CONNECT. */
  private startSocks5(socket: net.Socket): void {
    acceptSocks5(socket, this.env, { isPassthrough: (t) => this.isIgnored(t), enter: (s, t) => this.sniff(s, t) });
  }

  private startH1(socket: net.Socket, target: TunnelTarget | undefined): void {
    if (target) socket[kTarget] = target;
    this.h1.accept(socket);
  }

  private startH2Plain(socket: net.Socket, target: TunnelTarget | undefined): void {
    const head = socket.read() as Buffer | null;
    this.h2.accept(new PrependedStream(socket, head ?? Buffer.alloc(0)), { target, client: clientInfoOf(socket), tls: false });
  }

  private startTls(socket: net.Socket, target: TunnelTarget | undefined): void {
    const deps = target ? this.tlsInTunnel : this.tlsDirect;
    if (target && this.mayWarm(target) && this.env.h2.warm(target.host, target.port, (s) => this.env.pool.adopt(target.host, target.port, s))) {
      // The client's handshake for a new host is CPU work (a leaf to issue, a context to build):
      // let one I/O turn pass first, in which the origin connection's own handshake gets going
      // and can proceed at the origin meanwhile.
      setImmediate(() =>
        setImmediate(() => {
          if (!socket.destroyed) terminateTls(socket, target, deps);
        }),
      );
    } else terminateTls(socket, target, deps);
  }

  /**
   * Whether the origin of a tunnel whose client is starting TLS may be connected to before its
   * first request (as mitmproxy's default "eager" strategy does): only for a host name, and only
   * when no rule or breakpoint could keep that request from going there (block, mock, map-local,
   * map-remote, a request breakpoint where the user may edit the target…), so a host the user
   * keeps from the network is never contacted ahead of time.
   */
  private mayWarm(target: TunnelTarget): boolean {
    if (this.opts.mode.kind === 'reverse' || isIpLiteral(target.host) || this.isSelf(target.host, target.port)) return false;
    const addons = this.deps.addons();
    if (hasHook(addons, 'requestHeaders') || hasHook(addons, 'request')) return false;
    return !this.deps.breakpoints().some((bp) => bp.on.has('request'));
  }

  /**
   * What the TLS terminator needs, built once per kind rather than per connection: the terminator
   * keeps its settings for the life of the TLS socket, so per-connection closures here would be
   * held by every idle intercepted connection.
   */
  private terminatorDeps(inTunnel: boolean): TerminatorDeps {
    const { deps } = this;
    return {
      // TLS straight to the listener (no CONNECT) may have a configured certificate for its SNI.
      secureContextFor: inTunnel
        ? (host) => deps.certificates.secureContextFor(host)
        : (host) => deps.listenerCerts?.contextFor(host) ?? deps.certificates.secureContextFor(host),
      handshakeTimeoutMs: this.opts.handshakeTimeoutMs,
      alpn: ['h2', 'http/1.1'],
      // A client without SNI gets the listen address's certificate (an IP SAN) rather than a failed handshake.
      defaultHost: this.opts.host === '0.0.0.0' || this.opts.host === '::' ? '127.0.0.1' : this.opts.host,
      onSecure: (tlsSocket) => {
        if (tlsSocket.alpnProtocol === 'h2') this.h2.accept(tlsSocket, { target: tlsSocket[kTarget], client: clientInfoOf(tlsSocket), tls: true });
        else this.h1.accept(tlsSocket);
      },
      onFailure: (host, err) => {
        deps.bus.log('warn', `client TLS handshake failed for ${host ?? 'an unnamed host'}: ${err.message} (does the client trust the proxyctl CA? see \`proxyctl ca path\`)`);
      },
    };
  }

  private onConnect(socket: net.Socket, target: TunnelTarget, head: Buffer, httpVersion: string): void {
    // The HTTP/1 server handed the socket over with its idle timer cleared (H1Server detach); what
    // runs inside the tunnel (TLS + h1/h2 adapter) has timeouts of its own.
    socket.allowHalfOpen = false;
    if (this.isIgnored(target)) {
      openTunnel(this.env, socket, target, clientInfoOf(socket), head, httpVersion);
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) socket.unshift(head);
    this.sniff(socket, target);
  }

  private isIgnored(target: TunnelTarget): boolean {
    return this.opts.ignoreHosts.some((re) => re.test(target.host) || re.test(`${target.host}:${target.port}`));
  }

  private isSelf(host: string, port: number): boolean {
    if (port !== this.port) return false;
    if (host === 'localhost' || host === this.opts.host) return true;
    return isIpLiteral(host) && (host === '127.0.0.1' || host === '::1' || (this.opts.host === '0.0.0.0' || this.opts.host === '::'));
  }
}

/** The listener's 'error' handler, shared by every client socket. */
function ignoreSocketError(): void {
  /* every socket error ends in 'close'; the stage that owns the socket records it on its flow */
}
