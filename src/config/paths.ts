import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Where proxyctl keeps its state: `$PROXYCTL_HOME`, default `~/.proxyctl` (DESIGN.md §7). */
export function proxyctlHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['PROXYCTL_HOME'];
  return fromEnv ? resolve(fromEnv) : join(homedir(), '.proxyctl');
}

export function caDir(home: string): string {
  return join(home, 'ca');
}

/** The root certificate path scripts rely on: `$PROXYCTL_HOME/ca/ca.pem`. */
export function caCertPath(home: string): string {
  return join(home, 'ca', 'ca.pem');
}

export function caKeyPath(home: string): string {
  return join(home, 'ca', 'ca.key');
}

export function settingsPath(home: string): string {
  return join(home, 'settings.json');
}

export function sessionsDir(home: string): string {
  return join(home, 'sessions');
}
