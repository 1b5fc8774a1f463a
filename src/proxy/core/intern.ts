/**
 * One shared copy of strings that flows repeat: field names, and values such as `keep-alive`,
 * `text/html; charset=utf-8`, a browser's User-Agent, a client address. The store keeps thousands
 * of flows, and without this each kept its own copies (issue 9: memory per flow, and fewer bytes
 * for the young-generation GC to copy). A string parsed out of a message head is also a slice of
 * that head, which it would keep alive whole.
 *
 * Two generations bound the table: a string seen in the current or the previous generation is
 * shared, while strings that never repeat (dates, lengths, cookies) age out with their generation.
 */

/** Longer strings are rarely repeated byte for byte (cookies, tokens): they are not looked up. */
const MAX_LENGTH = 256;
/** Strings per generation. */
const GENERATION = 4096;

let current = new Map<string, string>();
let previous = new Map<string, string>();

/** The shared copy of `s` (an equal string). */
export function intern(s: string): string {
  if (s.length > MAX_LENGTH) return s;
  const hit = current.get(s);
  if (hit !== undefined) return hit;
  const kept = previous.get(s) ?? detached(s);
  if (current.size >= GENERATION) {
    previous = current;
    current = new Map();
  }
  current.set(kept, kept);
  return kept;
}

/**
 * A copy of `s` that shares no storage with a longer string (a slice of a head would keep the
 * whole head alive for as long as the table keeps the slice).
 */
function detached(s: string): string {
  // Concatenation then slicing flattens into a string of its own, `s.length + 1` long.
  return s.length < 13 ? s : (' ' + s).slice(1);
}
