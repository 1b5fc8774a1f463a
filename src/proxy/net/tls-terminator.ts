import tls from 'node:tls';
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import { debuglog } from 'node:util';
import { kClientAddr, kClientTls, kTarget, type TunnelTarget } from './socket-facts.js';

const debug = debuglog('proxyctl');

/**
 * Spreads work that must run on the event loop over its turns. A task runs at once while the
 * current turn has spent less than `budgetMs` on such tasks; otherwise it waits for a later turn
 * (one `setImmediate` per turn, so the poll phase between two turns serves every other socket).
 *
 * Why: a TLS handshake for a host name never seen costs ~2 ms of CPU before the ServerHello (a
 * leaf signed by the root, then its OpenSSL context), and ClientHellos that arrive together are
 * read in the same poll phase. Twenty new names at once then held every other connection for
 * 50–250 ms; sliced, other traffic waits for about one task per turn.
 */
export class TurnBudget {
  private spent = 0;
  private readonly queue: Array<() => void> = [];
  private turnScheduled = false;

  /** `onError` gets what a task threw (tasks are expected to handle their own failures). */
  constructor(
    private readonly budgetMs: number,
    private readonly onError: (err: unknown) => void = (err) => debug('a task on the TLS turn budget threw: %s', err),
  ) {}

  /** Run `task` now if this turn has budget left and nothing is waiting, else in a later turn. Never throws. */
  run(task: () => void): void {
    if (this.queue.length === 0 && this.spent < this.budgetMs) this.execute(task);
    else this.queue.push(task);
    this.scheduleTurn();
  }

  private execute(task: () => void): void {
    const started = performance.now();
    try {
      task();
    } catch (err) {
      this.onError(err);
    } finally {
      this.spent += performance.now() - started;
    }
  }

  /** The next turn resets the budget and runs waiting tasks until it is spent again. */
  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(() => {
      this.turnScheduled = false;
      this.spent = 0;
      while (this.queue.length > 0 && this.spent < this.budgetMs) this.execute(this.queue.shift()!);
      if (this.queue.length > 0) this.scheduleTurn();
    });
  }
}

/** One for the process: the event loop it shares out is the process's. */
const processBudget = new TurnBudget(1);

export interface TerminatorDeps {
  secureContextFor(host: string): tls.SecureContext;
  handshakeTimeoutMs: number;
  /** Protocols offered by ALPN, in preference order. */
  alpn: string[];
  onSecure(socket: tls.TLSSocket): void;
  onFailure(host: string | null, err: Error): void;
  /**
   * The name whose certificate a client gets when it sends no SNI and came without a CONNECT
   * (TLS straight to the listener, e.g. `https://127.0.0.1:8443/` in reverse mode).
   */
  defaultHost?: string;
  /**
   * Shares the event loop between handshake starts (certificate work) and everything else.
   * @default one process-wide budget of 1 ms per turn
   */
  budget?: TurnBudget;
}

/** What one handshake has learned so far, for failure reports. */
interface Attempt {
  /** The SNI name, once the ClientHello is read. */
  requested: string | null;
  /** Destroys the connection if the handshake is not done in time (armed before any wait). */
  timer: NodeJS.Timeout;
}

/**
 * Terminate the client's TLS with a certificate for the name it asked for (SNI), falling back to
 * the CONNECT host when the client sends no SNI (IP addresses, old clients).
 */
export function terminateTls(raw: net.Socket, target: TunnelTarget | undefined, deps: TerminatorDeps): void {
  let socket: tls.TLSSocket | null = null;
  // The handshake's time starts now, so a wait for a turn counts against it too.
  const attempt: Attempt = {
    requested: null,
    timer: setTimeout(() => {
      deps.onFailure(attempt.requested ?? target?.host ?? null, new Error(`TLS handshake not finished within ${deps.handshakeTimeoutMs} ms`));
      (socket ?? raw).destroy();
    }, deps.handshakeTimeoutMs),
  };
  raw.once('close', () => clearTimeout(attempt.timer));
  const budget = deps.budget ?? processBudget;
  budget.run(() => {
    if (raw.destroyed) return;
    try {
      socket = beginHandshake(raw, target, deps, budget, attempt);
    } catch (err) {
      // Never an uncaught exception for one client's handshake (e.g. a TLSSocket that cannot wrap).
      clearTimeout(attempt.timer);
      deps.onFailure(target?.host ?? deps.defaultHost ?? null, err as Error);
      raw.destroy();
    }
  });
}

function beginHandshake(raw: net.Socket, target: TunnelTarget | undefined, deps: TerminatorDeps, budget: TurnBudget, attempt: Attempt): tls.TLSSocket | null {
  const fallback = target?.host ?? deps.defaultHost;
  let defaultContext: tls.SecureContext | undefined;
  try {
    if (fallback !== undefined) defaultContext = deps.secureContextFor(fallback);
  } catch (err) {
    clearTimeout(attempt.timer);
    deps.onFailure(fallback ?? null, err as Error);
    raw.destroy();
    return null;
  }
  const contextFor = (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => {
    try {
      cb(null, deps.secureContextFor(servername));
    } catch (err) {
      cb(err as Error);
    }
  };
  const socket = new tls.TLSSocket(raw, {
    isServer: true,
    ...(defaultContext ? { secureContext: defaultContext } : {}),
    ALPNProtocols: deps.alpn,
    SNICallback: (servername, cb) => {
      attempt.requested = servername;
      // The fallback's context was just made; any other name may need a new leaf (a turn's worth).
      if (servername === fallback) contextFor(servername, cb);
      else
        budget.run(() => {
          if (!socket.destroyed) contextFor(servername, cb);
        });
    },
  });
  // A TLS socket on a half-open-allowing socket would inherit that and never close on client FIN
  // (CLOSE_WAIT leaks, DESIGN.md §11); whatever the raw socket allows, this one must not.
  socket.allowHalfOpen = false;
  socket[kClientAddr] = raw[kClientAddr];
  let secure = false;
  socket.once('secure', () => {
    secure = true;
    clearTimeout(attempt.timer);
    // A server-side TLSSocket made by hand keeps `secureConnecting` true, and an Http2Session on it
    // would wait forever for 'secureConnect' (DESIGN.md §11).
    (socket as unknown as { secureConnecting: boolean }).secureConnecting = false;
    const sni = (socket as unknown as { servername?: string | false }).servername || null;
    socket[kTarget] = target ?? { host: sni ?? 'unknown', port: 443 };
    socket[kClientTls] = { version: socket.getProtocol() ?? null, sni, alpn: socket.alpnProtocol || null };
    deps.onSecure(socket);
  });
  socket.on('error', (err) => {
    clearTimeout(attempt.timer);
    if (!secure) deps.onFailure(attempt.requested ?? target?.host ?? null, err);
    socket.destroy();
  });
  socket.once('close', () => clearTimeout(attempt.timer));
  return socket;
}
