import type net from 'node:net';
import type { ClientInfo, HeaderPairs } from '../core/flow.js';
import { hasHook, runConnectHooks, type ConnectDecision } from '../core/pipeline.js';
import { basicCredentials, requiresProxyAuth, verifyProxyCredentials } from '../rules/auth.js';
import { clientInfoOf } from './client-info.js';
import type { ExchangeEnv } from './exchange.js';
import { RuleContext } from './rule-context.js';
import { kClientAddr, type TunnelTarget } from './socket-facts.js';
import {
  Method,
  Reply,
  authStatus,
  chooseMethod,
  methodChoice,
  parseGreeting,
  parseRequest,
  parseUserPass,
  reply,
  replyForError,
  type Parsed,
} from './socks5-wire.js';
import { openTunnel, type TunnelReplies } from './tunnel.js';
import { recordRefusedConnect } from './refused-connect.js';

export interface Socks5Handlers {
  /** Will a tunnel to this target pass through untouched (an ignored host)? */
  isPassthrough(target: TunnelTarget): boolean;
  /** The tunnel is open and intercepted: re-enter the listener with it, as after CONNECT. */
  enter(socket: net.Socket, target: TunnelTarget): void;
}

/** Replies of a passthrough tunnel opened for a SOCKS5 client. */
const socksReplies: TunnelReplies = {
  established: (client, upstream) => client.write(reply(Reply.SUCCEEDED, { address: upstream.localAddress, port: upstream.localPort })),
  failed: (client, err) => {
    if (client.writable) client.end(reply(replyForError(err.code)));
  },
};

/**
 * Bytes held while the handshake runs. Its longest message is 513 bytes (RFC 1929); the rest is
 * room for a client that sends its first tunnel bytes (a TLS ClientHello) without waiting.
 */
const MAX_HANDSHAKE_BYTES = 64 * 1024;

type Phase = 'greeting' | 'auth' | 'request' | 'busy';

/**
 * A SOCKS5 client (`--mode socks5`; the listener saw 0x05 first): greeting, optional
 * username/password (required when proxy auth is configured, checked by the same rule as
 * `Proxy-Authorization`), one CONNECT, then the same path as an HTTP CONNECT: connect rules,
 * ignored hosts tunnelled raw, everything else re-entering the listener to be intercepted.
 */
export function acceptSocks5(socket: net.Socket, env: ExchangeEnv, handlers: Socks5Handlers): void {
  socket.allowHalfOpen = false;
  let phase: Phase = 'greeting';
  let buffered: Buffer = Buffer.alloc(0);
  let credentials: { user: string; password: string } | null = null;
  const client = () => clientInfoOf(socket);

  const timer = setTimeout(() => {
    env.deps.bus.log('debug', `SOCKS5 client ${client().address} did not finish its handshake within ${env.opts.handshakeTimeoutMs} ms`);
    socket.destroy();
  }, env.opts.handshakeTimeoutMs);
  socket.once('close', () => clearTimeout(timer));

  /** Refuse and close: `answer` goes out first when the protocol has a way to say it. */
  const refuse = (message: string, answer: Buffer | null) => {
    phase = 'busy';
    clearTimeout(timer);
    socket.off('data', onData);
    env.deps.bus.log('debug', `SOCKS5 client ${client().address}: ${message}`);
    if (answer && socket.writable) socket.end(answer);
    else socket.destroy();
    // A client that never reads its answer does not keep the connection.
    setTimeout(() => socket.destroy(), 1000).unref();
  };

  /** Take a complete message off the front of the buffer; null while more bytes are needed. */
  function take<T>(parsed: Parsed<T>): T | null {
    if (parsed.kind === 'more') return null;
    if (parsed.kind === 'invalid') {
      refuse(parsed.message, parsed.reply);
      return null;
    }
    buffered = buffered.subarray(parsed.length);
    return parsed.value;
  }

  const step = (): void => {
    while (phase !== 'busy') {
      if (phase === 'greeting') {
        const greeting = take(parseGreeting(buffered));
        if (!greeting) return;
        const method = chooseMethod(greeting.methods, requiresProxyAuth(env.deps.addons()));
        if (method === Method.NO_ACCEPTABLE) {
          refuse(`no acceptable authentication method among [${greeting.methods.join(', ')}]`, methodChoice(method));
          return;
        }
        socket.write(methodChoice(method));
        phase = method === Method.USER_PASS ? 'auth' : 'request';
      } else if (phase === 'auth') {
        const creds = take(parseUserPass(buffered));
        if (!creds) return;
        phase = 'busy';
        void checkCredentials(creds.user, creds.password).then((ok) => {
          if (socket.destroyed) return;
          if (!ok) {
            refuse(`username/password refused for ${JSON.stringify(creds.user)}`, authStatus(false));
            return;
          }
          credentials = creds;
          socket.write(authStatus(true));
          phase = 'request';
          step();
        });
      } else {
        const target = take(parseRequest(buffered));
        if (!target) return;
        phase = 'busy';
        clearTimeout(timer);
        // Bytes a client sent after its request (optimistic data) belong to the tunnel.
        socket.pause();
        socket.off('data', onData);
        void connect(target, buffered);
      }
    }
  };

  const checkCredentials = async (user: string, password: string): Promise<boolean> => {
    const addons = env.deps.addons();
    // Without proxy auth, a client that offered only username/password is let in whatever it sent.
    if (!requiresProxyAuth(addons)) return true;
    try {
      return (await verifyProxyCredentials(addons, user, password, client(), new RuleContext(env.deps.bus, undefined))) !== null;
    } catch (err) {
      env.deps.bus.log('error', `SOCKS5 credential check failed: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
  };

  const connect = async (target: TunnelTarget, rest: Buffer): Promise<void> => {
    const passthrough = handlers.isPassthrough(target);
    const addons = env.deps.addons();
    let decision: ConnectDecision = { action: 'continue' };
    const headers: HeaderPairs = credentials ? [['Proxy-Authorization', basicCredentials(credentials.user, credentials.password)]] : [];
    if (hasHook(addons, 'connect')) {
      const request = { host: target.host, port: target.port, headers, client: client(), passthrough };
      decision = await runConnectHooks(addons, request, new RuleContext(env.deps.bus, undefined));
    }
    if (socket.destroyed) return;
    if (decision.action !== 'continue') {
      refused(env, socket, target, client(), decision);
      return;
    }
    const facts = socket[kClientAddr];
    if (decision.user !== undefined && facts) facts.user = decision.user;
    if (passthrough) {
      openTunnel(env, socket, target, client(), rest, '1.1', socksReplies);
      return;
    }
    // Like `200 Connection Established`, success is said before the origin is dialled: the client's
    // first bytes decide how (TLS or not) and failures become error pages inside the tunnel.
    socket.write(reply(Reply.SUCCEEDED, { address: socket.localAddress, port: socket.localPort }));
    if (rest.length) socket.unshift(rest);
    handlers.enter(socket, target);
    // The socket was paused above; the listener's sniff has its 'data' listener now.
    socket.resume();
  };

  const onData = (chunk: Buffer) => {
    buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
    if (buffered.length > MAX_HANDSHAKE_BYTES) {
      refuse('sent too much before its handshake finished', null);
      return;
    }
    step();
  };
  socket.on('data', onData);
  socket.resume();
}

/**
 * A connect rule refused the tunnel (a block, or proxy auth): SOCKS5 can only say "not allowed",
 * so the rule's answer is recorded on a CONNECT flow, as for an HTTP CONNECT, to show in the list.
 */
function refused(env: ExchangeEnv, socket: net.Socket, target: TunnelTarget, client: ClientInfo, decision: Exclude<ConnectDecision, { action: 'continue' }>): void {
  recordRefusedConnect(env, socket, client, target, [], decision, () => {
    socket.end(reply(Reply.NOT_ALLOWED));
    setTimeout(() => socket.destroy(), 1000).unref();
  });
}
