import { Box } from 'ink';
import type { LogEntry } from '../../store/flow-store.js';
import type { Line } from '../doc.js';
import { sanitize } from '../doc.js';
import { formatClock } from '../format.js';
import type { Role } from '../theme.js';
import { StyledLine } from './styled-line.js';

const LEVEL_ROLE: Record<LogEntry['level'], Role> = { debug: 'muted', info: 'info', warn: 'warn', error: 'error' };

/** One event-log row: time, level, message. */
export function logLine(e: LogEntry): Line {
  return [
    { text: `${formatClock(e.time)} `, role: 'muted' },
    { text: e.level.toUpperCase().padEnd(5), role: LEVEL_ROLE[e.level] },
    { text: ` ${sanitize(e.message).replace(/\n/g, ' ')}` },
  ];
}

/** The event-log pane: a title row and the newest entries that fit. */
export function EventLog({ entries, width, height }: { entries: readonly LogEntry[]; width: number; height: number }) {
  const rows = Math.max(0, height - 1);
  const shown = entries.slice(Math.max(0, entries.length - rows));
  const title: Line = [{ text: `── event log (${entries.length}) `.padEnd(width, '─'), role: 'muted' }];
  const lines: Line[] = shown.map(logLine);
  while (lines.length < rows) lines.unshift([]);
  return (
    <Box flexDirection="column">
      <StyledLine line={title} width={width} />
      {lines.map((l, i) => (
        <StyledLine key={i} line={l} width={width} />
      ))}
    </Box>
  );
}
