import { useRef } from 'react';
import { FilterIndex, type FlowPredicate, type IndexSource } from '../list/filter-index.js';

/**
 * The list's filter index for the current snapshot: rebuilt (one full scan) when the predicate
 * changes, otherwise extended incrementally. Syncing during render is safe because it is
 * idempotent per snapshot.
 */
export function useFilterIndex(snapshot: IndexSource, predicate: FlowPredicate | null): FilterIndex {
  const ref = useRef<FilterIndex | null>(null);
  if (!ref.current || ref.current.predicate !== predicate) ref.current = new FilterIndex(predicate);
  ref.current.sync(snapshot);
  return ref.current;
}
