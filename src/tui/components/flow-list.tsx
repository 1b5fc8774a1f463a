import { Box } from 'ink';
import { memo } from 'react';
import type { Flow } from '../../proxy/core/flow.js';
import type { Line } from '../doc.js';
import type { StoreSnapshot } from '../../store/flow-store.js';
import type { FilterIndex } from '../list/filter-index.js';
import { headerLine, rowLine, type ColumnLayout } from '../list/columns.js';
import { selectedIndex, visibleTop, type ListState } from '../state/list-state.js';
import { BlankLine, StyledLine } from './styled-line.js';
import { isPaused } from '../format.js';

export interface FlowListProps {
  snapshot: Pick<StoreSnapshot, 'at'>;
  index: FilterIndex;
  /** The pause clock (paused rows show how long they have waited). */
  now: number;
  list: ListState;
  layout: ColumnLayout;
  width: number;
  /** Rows for flows (the column header is extra). */
  height: number;
  /** Shown when the view is empty. */
  emptyText: string;
}

/**
 * An older flow in view whose row the store is still reading back from the session (issue 7):
 * a dim placeholder where the row will be, selectable like any other.
 */
function loadingLine(selected: boolean): Line {
  return [
    { text: selected ? '>' : ' ', role: 'accent' },
    { text: '  ' },
    { text: 'loading…', role: 'muted' },
  ];
}

const FlowRow = memo(function FlowRow({ flow, layout, selected, width, now }: { flow: Flow; layout: ColumnLayout; selected: boolean; width: number; now: number }) {
  return <StyledLine line={rowLine(flow, layout, selected, now)} width={width} {...(selected ? { role: 'selected' as const } : {})} />;
});

/** The flow list: a header and only the rows in view (the store may hold 100,000 flows). */
export function FlowList({ snapshot, index, now, list, layout, width, height, emptyText }: FlowListProps) {
  const top = visibleTop(list, index, height);
  const sel = selectedIndex(list, index);
  const rows = [];
  for (let i = 0; i < height; i++) {
    const at = top + i;
    const seq = at < index.length ? index.seqAt(at) : -1;
    const flow = seq >= 0 ? snapshot.at(index.positionOf(seq)) : undefined;
    // Keyed by flow, so rows that only moved (new flows below) are not rebuilt.
    if (flow) rows.push(<FlowRow key={`s${seq}`} flow={flow} layout={layout} selected={at === sel} width={width} now={isPaused(flow) ? now : 0} />);
    else if (seq >= 0) rows.push(<StyledLine key={`l${seq}`} line={loadingLine(at === sel)} width={width} {...(at === sel ? { role: 'selected' as const } : {})} />);
    else if (i === 0 && index.length === 0) rows.push(<StyledLine key={i} line={[{ text: `   ${emptyText}`, role: 'muted' }]} width={width} />);
    else rows.push(<BlankLine key={`b${i}`} />);
  }
  return (
    <Box flexDirection="column">
      <StyledLine line={headerLine(layout)} width={width} />
      {rows}
    </Box>
  );
}
