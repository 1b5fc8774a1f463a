import { Box } from 'ink';
import type { BackendStatus } from '../../proxy/reverse/status.js';
import { BlankLine, StyledLine } from '../components/styled-line.js';
import { backendColumns, backendLine, backendsHeader, backendsTitle, NOT_REVERSE_TEXT } from './backends-format.js';
import { backendsTop, type BackendsPaneState } from './backends-state.js';

export interface BackendsPaneProps {
  backends: readonly BackendStatus[];
  state: BackendsPaneState;
  /** When the backends were read (ages count from it). */
  now: number;
  width: number;
  /** Rows below the title (the column header takes one of them). */
  height: number;
}

/** The backends pane: a title, a column header and the backends in view. */
export function BackendsPane({ backends, state, now, width, height }: BackendsPaneProps) {
  const rows = [];
  if (backends.length === 0) {
    for (let i = 0; i < height; i++) rows.push(<StyledLine key={i} line={NOT_REVERSE_TEXT[i] ?? []} width={width} />);
  } else {
    const cols = backendColumns(backends, width);
    const bodyRows = Math.max(1, height - 1);
    const top = backendsTop(state, backends.length, bodyRows);
    rows.push(<StyledLine key="header" line={backendsHeader(cols, width)} width={width} />);
    for (let i = 0; i < bodyRows; i++) {
      const b = backends[top + i];
      if (b) rows.push(<StyledLine key={`${b.group} ${b.url}`} line={backendLine(b, cols, now, width)} width={width} />);
      else rows.push(<BlankLine key={`b${i}`} />);
    }
  }
  return (
    <Box flexDirection="column">
      <StyledLine line={backendsTitle(backends)} width={width} />
      {rows}
    </Box>
  );
}
