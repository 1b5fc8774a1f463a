/** Thrown for a bad option or config value; the CLI prints the message and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
