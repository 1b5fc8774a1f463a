import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { configSchema, formatIssues, type ConfigFile } from './schema.js';

export type ConfigResult = { ok: true; config: ConfigFile } | { ok: false; problems: string[] };

/** Parse config text (YAML is a superset of JSON, so one parser reads both). */
export function parseConfigText(text: string, source: string): ConfigResult {
  let data: unknown;
  try {
    data = text.trim() === '' ? {} : parseYaml(text);
  } catch (err) {
    return { ok: false, problems: [`${source}: not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`] };
  }
  const parsed = configSchema.safeParse(data ?? {});
  if (!parsed.success) return { ok: false, problems: formatIssues(parsed.error) };
  return { ok: true, config: parsed.data };
}

export async function loadConfigFile(path: string): Promise<ConfigResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return { ok: false, problems: [`${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`] };
  }
  return parseConfigText(text, path);
}
