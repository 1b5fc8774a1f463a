import { useEffect } from 'react';
import type { Flow } from '../../proxy/core/flow.js';
import type { StoreSnapshot } from '../../store/flow-store.js';
import { needsBodies } from '../../store/session-bodies.js';

/**
 * Read back, in the background, the bodies of the flow the user is looking at when the store keeps
 * them in the session (issue 7): the flow in the detail view, or the list's selection (so `y`, `E`
 * and `r` get the whole flow). Until they arrive the detail view says "loading"; the store then
 * publishes a snapshot whose `at` returns the flow with its bytes. Nothing is read while the
 * selected flow is in memory with its bytes (the usual case when following live traffic).
 */
export function useSessionBodies(snapshot: Pick<StoreSnapshot, 'hydrate'>, seq: number | null, flow: Flow | undefined): void {
  // An older flow not read yet (undefined) is read whole, row and bodies at once.
  const wanted = seq !== null && seq >= 0 && (flow === undefined || needsBodies(flow));
  const hydrate = snapshot.hydrate;
  useEffect(() => {
    if (wanted) hydrate(seq);
  }, [wanted, seq, hydrate]);
}
