import { Box } from 'ink';
import { EXPORT_FORMATS } from '../../export/output-layout.js';
import type { Line, Segment } from '../doc.js';
import { hintLine, KEYMAP } from '../keymap.js';
import { describeScope, EXPORT_SCOPES, type ExportState } from '../state/export-state.js';
import { StyledLine } from './styled-line.js';

/** Rows the chooser takes at the bottom of the screen (instead of the one-line prompt). */
export const EXPORT_CHOOSER_ROWS = 3;

/** The key that picks a format, from the keymap (`h` for har …). */
function formatKey(format: string): string | undefined {
  return KEYMAP.find((b) => b.command === `export.${format}` && b.contexts.includes('export'))?.key;
}

/**
 * The export prompt's format step, three rows: what is exported (and the other scopes Tab offers),
 * the formats with the highlighted one, and the keys.
 */
export function exportChooserLines(state: ExportState, width: number): Line[] {
  const scopes: Segment[] = [];
  for (const s of EXPORT_SCOPES) {
    if (state.counts[s] === 0) continue;
    scopes.push({ text: '  ' });
    scopes.push(s === state.scope ? { text: `${s} ${state.counts[s]}`, role: 'selected' } : { text: `${s} ${state.counts[s]}`, role: 'muted' });
  }
  const formats: Segment[] = [{ text: 'as: ', role: 'accent' }];
  for (const f of EXPORT_FORMATS) {
    const key = formatKey(f);
    const label = key && f.startsWith(key) ? `[${key}]${f.slice(key.length)}` : f;
    formats.push(f === state.format ? { text: ` ${label} `, role: 'selected' } : { text: ` ${label} ` });
  }
  return [
    [{ text: 'export ', role: 'accent' }, { text: describeScope(state.scope, state.counts[state.scope]) }, { text: '   scope (Tab):', role: 'muted' }, ...scopes],
    formats,
    [{ text: hintLine(['export'], width), role: 'muted' }],
  ];
}

export function ExportChooser({ state, width }: { state: ExportState; width: number }) {
  return (
    <Box flexDirection="column">
      {exportChooserLines(state, width).map((line, i) => (
        <StyledLine key={i} line={line} width={width} />
      ))}
    </Box>
  );
}
