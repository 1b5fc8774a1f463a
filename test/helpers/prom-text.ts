/**
 * A small reader of the Prometheus text exposition format (version 0.0.4), strict enough to catch
 * what a real scraper would refuse: every sample line is `name{label="value",…} number`, label
 * values use only the `\\`, `\"` and `\n` escapes, every family has `# HELP` and `# TYPE` before its
 * samples, and no series appears twice.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  /** Family name → `counter` | `gauge` | `histogram` | `summary` | `untyped`. */
  types: Map<string, string>;
  help: Map<string, string>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** Parse an exposition; throws naming the line for anything malformed. */
export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const seen = new Set<string>();
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('the exposition must end with a newline');
  lines.forEach((line, i) => {
    const where = `line ${i + 1} (${JSON.stringify(line)})`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
      if (!m) return; // a plain comment
      if (m[1] === 'TYPE') {
        if (!/^(counter|gauge|histogram|summary|untyped)$/.test(m[3]!)) throw new Error(`${where}: unknown type`);
        if (types.has(m[2]!)) throw new Error(`${where}: second TYPE for ${m[2]}`);
        types.set(m[2]!, m[3]!);
      } else help.set(m[2]!, m[3]!);
      return;
    }
    const sample = parseSample(line, where);
    const family = familyOf(sample.name, types);
    if (!types.has(family) || !help.has(family)) throw new Error(`${where}: no HELP and TYPE before the samples of ${family}`);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(key)) throw new Error(`${where}: series repeated`);
    seen.add(key);
    samples.push(sample);
  });
  return { samples, types, help };
}

/** `x_bucket`, `x_sum`, `x_count` belong to the histogram `x`. */
function familyOf(name: string, types: Map<string, string>): string {
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (m && (types.get(m[1]!) === 'histogram' || types.get(m[1]!) === 'summary')) return m[1]!;
  return name;
}

function parseSample(line: string, where: string): Sample {
  let rest = line;
  const name = NAME.exec(rest)?.[0];
  if (!name) throw new Error(`${where}: no metric name`);
  rest = rest.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    rest = rest.slice(1);
    while (!rest.startsWith('}')) {
      const label = LABEL_NAME.exec(rest)?.[0];
      if (!label || rest[label.length] !== '=' || rest[label.length + 1] !== '"') throw new Error(`${where}: bad label`);
      rest = rest.slice(label.length + 2);
      let value = '';
      for (;;) {
        const c = rest[0];
        if (c === undefined) throw new Error(`${where}: unterminated label value`);
        rest = rest.slice(1);
        if (c === '"') break;
        if (c === '\\') {
          const e = rest[0];
          rest = rest.slice(1);
          if (e === '\\') value += '\\';
          else if (e === '"') value += '"';
          else if (e === 'n') value += '\n';
          else throw new Error(`${where}: bad escape \\${e ?? ''}`);
        } else value += c;
      }
      if (label in labels) throw new Error(`${where}: label ${label} twice`);
      labels[label] = value;
      if (rest.startsWith(',')) rest = rest.slice(1);
      else if (!rest.startsWith('}')) throw new Error(`${where}: expected , or }`);
    }
    rest = rest.slice(1);
  }
  const m = /^ (\S+)( -?\d+)?$/.exec(rest);
  if (!m) throw new Error(`${where}: expected one space and a value`);
  const text = m[1]!;
  const value = text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : text === 'NaN' ? NaN : Number(text);
  if (Number.isNaN(value) && text !== 'NaN') throw new Error(`${where}: value is not a number`);
  return { name, labels, value };
}

/** Samples named `name` whose labels include every one in `labels`. */
export function select(exp: Exposition, name: string, labels: Record<string, string> = {}): Sample[] {
  return exp.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The value of the one sample named `name` whose labels include `labels`; throws when there is not exactly one. */
export function value(exp: Exposition, name: string, labels: Record<string, string> = {}): number {
  const found = select(exp, name, labels);
  if (found.length !== 1) throw new Error(`${found.length} samples ${name}${JSON.stringify(labels)}; have: ${select(exp, name).map((s) => JSON.stringify(s.labels)).join(' ') || 'none'}`);
  return found[0]!.value;
}

/** Sum of the samples named `name` whose labels include `labels` (0 when none). */
export function sum(exp: Exposition, name: string, labels: Record<string, string> = {}): number {
  return select(exp, name, labels).reduce((acc, s) => acc + s.value, 0);
}
