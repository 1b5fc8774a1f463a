import { dirname, resolve as resolvePath } from 'node:path';
import { resolveReverseSettings } from './config/reverse-settings.js';
import type { ConfigFile } from './config/schema.js';
import { UsageError, type StartSettings } from './config/start-options.js';
import type { EventBus } from './proxy/bus.js';
import { ListenerCertError, ListenerCerts } from './proxy/net/listener-certs.js';
import type { ProxyOptions } from './proxy/net/options.js';
import { httpProbe } from './proxy/reverse/health-probe.js';
import { ReversePool } from './proxy/reverse/pool.js';

/**
 * What the runtime builds for the listener's mode beyond the proxy itself: reverse mode's backend
 * pool and the listener's own TLS certificates. Both refuse a start they cannot serve (UsageError,
 * exit 2) naming the field.
 */

/** The parts of the runtime's options these read. */
export interface ModeInputs {
  config?: ConfigFile;
  configPath?: string | null;
}

/**
 * `reverse.tls.certs` when they apply: reverse mode with `reverse.tls.enabled: true`. Otherwise TLS
 * to the listener is still terminated with the CA's certificates and plain HTTP is accepted either
 * way. A pair that cannot be loaded refuses the start (exit 2) naming the field.
 */
export function loadListenerCerts(opts: ModeInputs, settings: StartSettings, bus: EventBus): ListenerCerts | null {
  const tls = opts.config?.reverse?.tls;
  if (!tls?.enabled || !tls.certs?.length) return null;
  if (settings.proxyMode.kind !== 'reverse') {
    bus.log('warn', 'reverse.tls applies in reverse mode only; the CA makes every certificate');
    return null;
  }
  const baseDir = opts.configPath ? dirname(resolvePath(opts.configPath)) : process.cwd();
  try {
    return ListenerCerts.load(tls.certs, { baseDir, log: (level, message) => bus.log(level, message) });
  } catch (err) {
    if (err instanceof ListenerCertError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * Reverse mode's pool (backends from `--mode reverse:URL…` or the config's `reverse` section); null
 * in the other modes. Health checks trust what upstream connections trust. A section that cannot
 * be used refuses the start (UsageError, exit 2) naming the field.
 */
export function reversePoolFor(settings: StartSettings, opts: ModeInputs, net: ProxyOptions, bus: EventBus, notes: string[]): ReversePool | null {
  const mode = settings.proxyMode;
  if (mode.kind !== 'reverse') return null;
  const resolved = resolveReverseSettings(mode.urls, opts.config?.reverse);
  notes.push(...resolved.notes);
  return new ReversePool(resolved.settings, {
    log: (level, message) => bus.log(level, message),
    probe: httpProbe({ insecure: net.insecure, ca: net.upstreamCa, resolve: net.resolve }),
  });
}
