/** Stable codes for session problems (tests assert codes, not messages). */
export type SessionErrorCode =
  /** The name is not a safe path segment. */
  | 'BAD_NAME'
  /** No session (or file) by that name. */
  | 'NOT_FOUND'
  /** A new session was asked for, but one with flows exists under that name. */
  | 'EXISTS'
  /** A line of `flows.jsonl` is not valid JSON or does not match the schema. */
  | 'CORRUPT_LINE'
  /** A line references a blob that is not in `blobs/`. */
  | 'BLOB_MISSING'
  /** A blob's content does not hash to its name. */
  | 'BLOB_CORRUPT';

export class SessionError extends Error {
  override name = 'SessionError';
  constructor(
    readonly code: SessionErrorCode,
    message: string,
  ) {
    super(message);
  }
}
