/** What the origin child process serves and says over its IPC channel (shared by both sides). */

/** `/small` response body size. */
export const SMALL_BYTES = 1024;
/** `/large` response body size. */
export const LARGE_BYTES = 1024 * 1024;
/** `/huge` response body size (the slow-client scenario reads only part of it). */
export const HUGE_BYTES = 512 * 1024 * 1024;

/** Messages from the origin. */
export type OriginMessage =
  | { type: 'ready'; httpPort: number; httpsPort: number }
  /** `hugeBytesWritten`: bytes of `/huge` bodies accepted by `write()` so far, over all requests. */
  | { type: 'stats'; hugeBytesWritten: number; hugeResponsesClosed: number };

/** Messages to the origin. */
export type OriginRequest = { type: 'stats' };

/** The host name clients use for the HTTPS origin (in its certificate; resolved to 127.0.0.1). */
export const ORIGIN_HOST = 'origin.test';
