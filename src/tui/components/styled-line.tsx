import { Box, Text } from 'ink';
import { memo } from 'react';
import type { Line } from '../doc.js';
import { useTheme, type Role } from '../theme.js';

export interface StyledLineProps {
  line: Line;
  /** The row's width: a row styled as a whole (`role`) is padded to it so the style spans it. */
  width: number;
  /** A style for the whole row (e.g. the selection). */
  role?: Role;
}

/**
 * One row of styled segments, cut to one terminal line. Ink's cost grows with every character it
 * is given, so rows are not padded unless styled as a whole, and empty rows write nothing.
 */
export const StyledLine = memo(function StyledLine({ line, width, role }: StyledLineProps) {
  const theme = useTheme();
  let used = 0;
  for (const s of line) used += s.text.length;
  if (used === 0 && !role) return <Box height={1} />;
  const pad = role && used < width ? ' '.repeat(width - used) : '';
  const outer = role ? theme[role] : {};
  return (
    <Text wrap="truncate-end" {...outer}>
      {line.map((s, i) => (
        <Text key={i} {...(s.role ? theme[s.role] : {})}>
          {s.text}
        </Text>
      ))}
      {pad}
    </Text>
  );
});

/** An empty row. */
export function BlankLine() {
  return <Box height={1} />;
}
