import { useEffect, useState } from 'react';
import type { BackendStatus } from '../../proxy/reverse/status.js';

/** Where backend states come from (the runtime's `backends()`); absent outside `proxyctl start`. */
export type BackendsSource = () => readonly BackendStatus[];

/** How often the backends are read. @default 1000 */
export const BACKENDS_REFRESH_MS = 1000;

export interface BackendsView {
  backends: readonly BackendStatus[];
  /** When they were read: the pane's "for 12s" ages count from here. */
  now: number;
}

const NONE: readonly BackendStatus[] = [];

/**
 * Poll the backend states about once a second. The runtime keeps them as plain counters (no event
 * per request), so reading is cheap; while the pane is closed a new reading re-renders the app only
 * when the up/total count the status bar shows has changed.
 */
export function useBackends(source: BackendsSource | undefined, paneOpen: boolean, intervalMs = BACKENDS_REFRESH_MS): BackendsView {
  const [view, setView] = useState<BackendsView>(() => ({ backends: read(source), now: Date.now() }));
  useEffect(() => {
    if (!source) return undefined;
    const tick = () => {
      const backends = read(source);
      setView((prev) => (paneOpen || countChanged(prev.backends, backends) ? { backends, now: Date.now() } : prev));
    };
    // Opening the pane shows fresh numbers at once, not a second later.
    if (paneOpen) tick();
    const timer = setInterval(tick, intervalMs);
    return () => clearInterval(timer);
  }, [source, paneOpen, intervalMs]);
  return view;
}

function read(source: BackendsSource | undefined): readonly BackendStatus[] {
  if (!source) return NONE;
  try {
    return source();
  } catch {
    // A failing source must not take the UI down; the pane then says there is nothing to show.
    return NONE;
  }
}

function countChanged(a: readonly BackendStatus[], b: readonly BackendStatus[]): boolean {
  if (a.length !== b.length) return true;
  let upA = 0;
  let upB = 0;
  for (const x of a) if (x.healthy) upA++;
  for (const x of b) if (x.healthy) upB++;
  return upA !== upB;
}
