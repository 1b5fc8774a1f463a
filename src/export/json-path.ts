/**
 * A small JSONPath subset for naming secrets in bodies: `$.token`, `$.user.password`,
 * `$['api-key']`, `$.items[0].secret`, `$.items[*].secret`, `$..password` (any depth).
 * Parsed once at the edge (a bad path is a usage error naming the column); applied without eval.
 */

export type JsonPathStep =
  | { kind: 'key'; key: string }
  | { kind: 'index'; index: number }
  | { kind: 'wildcard' }
  | { kind: 'descend'; key: string };

export interface JsonPath {
  source: string;
  steps: JsonPathStep[];
}

export class JsonPathError extends Error {
  override name = 'JsonPathError';
  readonly code = 'JSON_PATH_INVALID';
  constructor(
    readonly path: string,
    readonly column: number,
    why: string,
  ) {
    super(`invalid JSON path ${JSON.stringify(path)} at column ${column}: ${why}`);
  }
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$-]*/;

export function parseJsonPath(source: string): JsonPath {
  if (!source.startsWith('$')) throw new JsonPathError(source, 1, 'a path starts with $');
  const steps: JsonPathStep[] = [];
  let i = 1;
  while (i < source.length) {
    const rest = source.slice(i);
    if (rest.startsWith('..')) {
      const m = IDENT.exec(rest.slice(2));
      if (!m) throw new JsonPathError(source, i + 3, 'expected a name after ..');
      steps.push({ kind: 'descend', key: m[0] });
      i += 2 + m[0].length;
    } else if (rest.startsWith('.*')) {
      steps.push({ kind: 'wildcard' });
      i += 2;
    } else if (rest.startsWith('.')) {
      const m = IDENT.exec(rest.slice(1));
      if (!m) throw new JsonPathError(source, i + 2, 'expected a name after .');
      steps.push({ kind: 'key', key: m[0] });
      i += 1 + m[0].length;
    } else if (rest.startsWith('[*]')) {
      steps.push({ kind: 'wildcard' });
      i += 3;
    } else if (/^\[\d+\]/.test(rest)) {
      const m = /^\[(\d+)\]/.exec(rest)!;
      steps.push({ kind: 'index', index: Number(m[1]) });
      i += m[0].length;
    } else if (/^\[(['"])/.test(rest)) {
      const quote = rest[1]!;
      const end = rest.indexOf(`${quote}]`, 2);
      if (end === -1) throw new JsonPathError(source, i + 1, `unclosed [${quote}`);
      steps.push({ kind: 'key', key: rest.slice(2, end) });
      i += end + 2;
    } else {
      throw new JsonPathError(source, i + 1, `unexpected ${JSON.stringify(rest[0])}`);
    }
  }
  if (steps.length === 0) throw new JsonPathError(source, 1, 'the whole document cannot be redacted; name a field');
  return { source, steps };
}

/**
 * Replace every value the path selects with `replacement`, in place. Returns how many values
 * were replaced.
 */
export function replaceAtPath(root: unknown, path: JsonPath, replacement: unknown): number {
  let count = 0;
  const walk = (node: unknown, step: number): void => {
    if (step >= path.steps.length || node === null || typeof node !== 'object') return;
    const s = path.steps[step]!;
    const last = step === path.steps.length - 1;
    const visit = (container: Record<string, unknown> | unknown[], key: string | number) => {
      if (last) {
        (container as Record<string | number, unknown>)[key] = replacement;
        count++;
      } else walk((container as Record<string | number, unknown>)[key], step + 1);
    };
    switch (s.kind) {
      case 'key':
        if (!Array.isArray(node) && Object.hasOwn(node, s.key)) visit(node as Record<string, unknown>, s.key);
        break;
      case 'index':
        if (Array.isArray(node) && s.index < node.length) visit(node, s.index);
        break;
      case 'wildcard':
        if (Array.isArray(node)) node.forEach((_, i) => visit(node, i));
        else for (const k of Object.keys(node)) visit(node as Record<string, unknown>, k);
        break;
      case 'descend': {
        // `..key`: the key at this level or any level below.
        if (!Array.isArray(node) && Object.hasOwn(node, s.key)) visit(node as Record<string, unknown>, s.key);
        // Children after the visit, so a value just replaced is not searched again.
        for (const child of Array.isArray(node) ? node : Object.values(node)) walk(child, step);
        break;
      }
    }
  };
  walk(root, 0);
  return count;
}
