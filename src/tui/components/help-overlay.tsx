import { Box } from 'ink';
import type { Line } from '../doc.js';
import { MARKERS } from '../format.js';
import { helpSections, type Binding } from '../keymap.js';
import { PROXY_ACTIONS } from '../proxy-action.js';
import { StyledLine } from './styled-line.js';

/** The help text, generated from the keymap (and the list's marker legend). */
export function helpLines(keymap?: readonly Binding[]): Line[] {
  const lines: Line[] = [[{ text: 'proxyctl keys  (j/k scroll, q, Esc or ? closes)', role: 'heading' }], []];
  for (const section of helpSections(keymap)) {
    if (section.rows.length === 0) continue;
    lines.push([{ text: section.title, role: 'heading' }]);
    const keyWidth = Math.min(22, Math.max(...section.rows.map((r) => r.keys.length)));
    for (const row of section.rows) lines.push([{ text: `  ${row.keys.padEnd(keyWidth)}  `, role: 'accent' }, { text: row.help }]);
    lines.push([]);
  }
  lines.push([{ text: 'Flag column', role: 'heading' }]);
  for (const m of Object.values(MARKERS)) lines.push([{ text: `  ${m.char}  `, role: m.role }, { text: m.help }]);
  lines.push([{ text: '  *  ', role: 'warn' }, { text: 'marked (left of the row)' }]);
  lines.push([]);
  lines.push([{ text: 'Proxy column (what a rule did; the most important one is shown)', role: 'heading' }]);
  for (const a of PROXY_ACTIONS) lines.push([{ text: `  ${a.label.padEnd(5)}  `, role: a.role }, { text: a.help }]);
  return lines;
}

/** The help overlay: a scrollable window over `helpLines()`. */
export function HelpOverlay({ lines, scroll, width, height }: { lines: readonly Line[]; scroll: number; width: number; height: number }) {
  const rows = [];
  for (let i = 0; i < height; i++) rows.push(<StyledLine key={i} line={lines[scroll + i] ?? []} width={width} />);
  return <Box flexDirection="column">{rows}</Box>;
}
