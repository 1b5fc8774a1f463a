import { Text } from 'ink';
import { useTheme } from '../theme.js';
import { statusLine, type StatusFacts } from './status-text.js';

/** The status bar: one inverse line of facts, the ones switched on highlighted. */
export function StatusBar({ facts, width }: { facts: StatusFacts; width: number }) {
  const theme = useTheme();
  return (
    <Text wrap="truncate-end" {...theme.bar}>
      {statusLine(facts, width).map((s, i) => (
        <Text key={i} {...(s.role ? theme[s.role] : {})}>
          {s.text}
        </Text>
      ))}
    </Text>
  );
}
