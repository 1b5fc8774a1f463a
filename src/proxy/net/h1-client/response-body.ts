import { Readable } from 'node:stream';

/**
 * A response body as a readable stream, fed by the connection's parser. When the reader falls
 * behind, the socket is paused (`pause`), and resumed when it asks for more (`resume`): the
 * socket's own flow control carries backpressure to the origin.
 */
export class ResponseBody extends Readable {
  constructor(
    private readonly pauseSource: () => void,
    private readonly resumeSource: () => void,
  ) {
    super();
  }

  override _read(): void {
    this.resumeSource();
  }

  /** Hand on a slice of what the socket read. */
  feed(chunk: Buffer): void {
    if (!this.push(chunk)) this.pauseSource();
  }

  /**
   * The body was cut short. Like Node's own response objects, the error is emitted only to a
   * reader listening for it; nobody listening must not become an uncaught exception.
   */
  cut(err: Error): void {
    if (this.destroyed) return;
    this.destroy(this.listenerCount('error') > 0 ? err : undefined);
  }
}
