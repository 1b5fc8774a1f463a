import type net from 'node:net';
import type { HeaderPairs } from '../../core/flow.js';
import { MESSAGE_BREAKING, TOKEN } from '../../core/http-syntax.js';

/**
 * The writing side of HTTP/1.1 body framing (RFC 9112 §6, §7.1), the counterpart of
 * `BodyDecoder`, shared by the server's responses and the upstream client's requests.
 */

/**
 * Write a piece of a body, as it is or as one chunk, after a head still to go out (all in one
 * corked write). False when the socket asks to wait for 'drain'. An empty piece writes nothing
 * (an empty chunk would end a chunked body).
 */
export function writeBodyPiece(socket: net.Socket, piece: Buffer, chunked: boolean, head: string | null = null): boolean {
  if (piece.length === 0) return head === null || socket.write(head, 'latin1');
  if (head === null && !chunked) return socket.write(piece);
  socket.cork();
  if (head !== null) socket.write(head, 'latin1');
  if (chunked) socket.write(`${piece.length.toString(16)}\r\n`, 'latin1');
  let ok = socket.write(piece);
  if (chunked) ok = socket.write('\r\n', 'latin1');
  socket.uncork();
  return ok;
}

/** The last chunk and the trailer section of a chunked body; a field that could split it is left out. */
export function lastChunk(trailers: HeaderPairs | null): string {
  let out = '0\r\n';
  for (const [k, v] of trailers ?? []) if (TOKEN.test(k) && !MESSAGE_BREAKING.test(v)) out += `${k}: ${v}\r\n`;
  return `${out}\r\n`;
}

/** Call `cb` once the socket drained, or closed (nothing more will be written then). */
export function whenWritable(socket: net.Socket, cb: () => void): void {
  const done = () => {
    socket.off('drain', done);
    socket.off('close', done);
    cb();
  };
  socket.on('drain', done);
  socket.on('close', done);
}
