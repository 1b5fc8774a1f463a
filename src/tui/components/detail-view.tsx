import { Box, Text } from 'ink';
import { flowUrl, type Flow } from '../../proxy/core/flow.js';
import type { Doc, Line, Segment } from '../doc.js';
import { highlightMatches } from '../detail/search.js';
import { TAB_TITLES, type DetailTab } from '../detail/tabs.js';
import { elideMiddle, statusRole } from '../format.js';
import { pauseLabel } from '../pause/pause-format.js';
import type { DetailState } from '../state/detail-state.js';
import { StyledLine } from './styled-line.js';

export interface DetailViewProps {
  flow: Flow | undefined;
  /**
   * Without a flow: it is still in view, an older flow the store is reading back from the session
   * (issue 7), rather than gone (cleared, or evicted from a store without a session). @default false
   */
  loading?: boolean;
  /** The pause clock. */
  now: number;
  tabs: readonly DetailTab[];
  state: DetailState;
  doc: Doc;
  width: number;
  /** Rows for the document (the tab bar and the summary line are extra). */
  height: number;
}

function tabBar(tabs: readonly DetailTab[], active: DetailTab): Line {
  const out: Segment[] = [];
  for (const t of tabs) {
    out.push(t === active ? { text: `[${TAB_TITLES[t]}]`, role: 'selected' } : { text: ` ${TAB_TITLES[t]} `, role: 'muted' });
    out.push({ text: ' ' });
  }
  return out;
}

function summary(flow: Flow, now: number, doc: Doc, state: DetailState, height: number, width: number): Line {
  const status: Segment = flow.response
    ? { text: ` ${flow.response.status}`, role: statusRole(flow.response.status) }
    : { text: flow.error ? ` ${flow.error.code}` : ` ${flow.phase}`, role: flow.error ? 'error' : 'muted' };
  const last = Math.min(doc.length, state.scroll + height);
  const where = doc.length > height ? ` [${state.scroll + 1}-${last}/${doc.length}]` : '';
  const label = pauseLabel(flow, now);
  const pause = label ? ` ${label} (a resume, e edit, x kill${flow.phase === 'request-paused' ? ', R respond' : ''})` : '';
  const room = Math.max(10, width - flow.request.method.length - status.text.length - where.length - pause.length - 2);
  return [
    { text: `${flow.request.method} `, role: 'heading' },
    { text: elideMiddle(flowUrl(flow.request), room) },
    status,
    { text: pause, role: 'warn' },
    { text: where, role: 'muted' },
  ];
}

/** The detail view: tab bar, one summary line, and the visible window of the tab's document. */
export function DetailView({ flow, loading = false, now, tabs, state, doc, width, height }: DetailViewProps) {
  if (!flow) {
    return (
      <Box flexDirection="column" height={height + 2}>
        <Text dimColor>{loading ? 'loading the flow from the session…' : 'This flow is no longer held (cleared or evicted). Press q to go back.'}</Text>
      </Box>
    );
  }
  const query = state.search?.query ?? '';
  const match = state.search?.match ?? null;
  const rows = [];
  for (let i = 0; i < height; i++) {
    const at = state.scroll + i;
    let line: Line = at < doc.length ? doc.line(at) : [];
    if (query && at < doc.length) line = highlightMatches(line, query, match && match.line === at ? match.start : null);
    rows.push(<StyledLine key={i} line={line} width={width} />);
  }
  return (
    <Box flexDirection="column">
      <StyledLine line={tabBar(tabs, state.tab)} width={width} />
      <StyledLine line={summary(flow, now, doc, state, height, width)} width={width} />
      {rows}
    </Box>
  );
}
