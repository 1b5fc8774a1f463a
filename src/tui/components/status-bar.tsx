import { Text } from 'ink';
import { useTheme } from '../theme.js';
import { statusText, type StatusFacts } from './status-text.js';

/** The status bar: one inverse line of facts. */
export function StatusBar({ facts, width }: { facts: StatusFacts; width: number }) {
  const theme = useTheme();
  return (
    <Text wrap="truncate-end" {...theme.bar}>
      {statusText(facts, width)}
    </Text>
  );
}
