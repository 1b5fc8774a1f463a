/**
 * Facts the listener learns about a connection and later stages need, kept on the socket itself
 * under symbols (the mockttp approach), type-checked through module augmentation.
 */
export const kTarget = Symbol('proxyctl.target');
export const kClientTls = Symbol('proxyctl.clientTls');
export const kClientAddr = Symbol('proxyctl.clientAddr');

/** Where a CONNECT tunnel leads. */
export interface TunnelTarget {
  host: string;
  port: number;
}

export interface ClientTlsFacts {
  version: string | null;
  sni: string | null;
  alpn: string | null;
}

declare module 'node:net' {
  interface Socket {
    [kTarget]?: TunnelTarget;
    [kClientTls]?: ClientTlsFacts;
    /** The address of the original TCP client (a TLS socket inside a tunnel has none of its own). */
    [kClientAddr]?: { address: string; port: number; user?: string };
  }
}
