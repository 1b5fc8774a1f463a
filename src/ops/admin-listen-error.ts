/**
 * The admin port could not be bound (in use, no permission): a start-up failure, exit 1. In a
 * module of its own so the CLI can name it without loading the metrics (and prom-client).
 */
export class AdminListenError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly code: string,
  ) {
    super(`cannot listen on ${host.includes(':') ? `[${host}]` : host}:${port} for --admin-port: ${code}`);
    this.name = 'AdminListenError';
  }
}
