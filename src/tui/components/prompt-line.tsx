import { Box, Text } from 'ink';
import type { MessageLevel } from '../state/app-state.js';
import { PROMPT_LABELS, type PromptState } from '../state/prompt-state.js';
import { useTheme } from '../theme.js';

export interface PromptLineProps {
  prompt: PromptState | null;
  message: { text: string; level: MessageLevel } | null;
  /** Key hints shown when there is nothing else to say. */
  hints: string;
  width: number;
}

/**
 * The bottom line: the open prompt (with a second line pointing at a syntax error), else the last
 * message, else key hints.
 */
export function PromptLine({ prompt, message, hints, width }: PromptLineProps) {
  const theme = useTheme();
  if (prompt) {
    const label = prompt.label ?? PROMPT_LABELS[prompt.kind];
    const before = prompt.text.slice(0, prompt.cursor);
    const at = prompt.text.slice(prompt.cursor, prompt.cursor + 1) || ' ';
    const after = prompt.text.slice(prompt.cursor + 1);
    return (
      <Box flexDirection="column">
        <Text wrap="truncate-start">
          <Text {...theme.accent}>{label}</Text>
          {before}
          <Text {...theme.selected}>{at}</Text>
          {after}
        </Text>
        {prompt.error !== null && (
          <Text wrap="truncate-end" {...theme.error}>
            {' '.repeat(label.length) + prompt.error}
          </Text>
        )}
      </Box>
    );
  }
  if (message) {
    const role = message.level === 'error' ? theme.error : message.level === 'warn' ? theme.warn : theme.plain;
    return (
      <Text wrap="truncate-end" {...role}>
        {message.text.replace(/\s+/g, ' ').slice(0, width) || ' '}
      </Text>
    );
  }
  return (
    <Text wrap="truncate-end" {...theme.muted}>
      {hints || ' '}
    </Text>
  );
}
