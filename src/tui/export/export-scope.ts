import { assertNever } from '../../proxy/core/assert-never.js';
import type { Flow } from '../../proxy/core/flow.js';
import { currentFlow, type CommandDeps } from '../commands.js';
import type { ExportScope } from '../state/export-state.js';
import type { ReadFlow, ScopePlan } from './whole-flows.js';

/**
 * Which flows an export takes (issue 7). The list's view of the store changes while an export
 * reads (the filter index is extended in place, older rows arrive), so the sequences in scope are
 * taken when Enter is pressed and read back afterwards (whole-flows.ts).
 */

/** The oldest sequence in view: the index maps a sequence to its store position as `seq - first`. */
function firstSeq(d: Pick<CommandDeps, 'index'>): number {
  return -d.index.positionOf(0);
}

const isMarked = (flow: Flow): boolean => flow.marked;

/**
 * The sequences of a scope, in list order. The marked scope takes every flow the snapshot shows
 * marked, and every older flow it cannot show yet (its row not read back): whether those are
 * marked is only known once read, so they are read and tested (`keep`).
 */
export function planScope(d: CommandDeps, scope: ExportScope): ScopePlan {
  switch (scope) {
    case 'selected': {
      const cur = currentFlow(d);
      return { seqs: cur ? [cur.seq] : [], keep: null };
    }
    case 'marked': {
      const first = firstSeq(d);
      const seqs: number[] = [];
      const known = new Set<number>();
      for (let i = 0; i < d.heldCount; i++) {
        const f = d.flowAt(i);
        if (f?.marked) known.add(first + i);
        if (!f || f.marked) seqs.push(first + i);
      }
      // With no flow known to be marked there is no marked scope (the prompt does not offer one).
      return { seqs: known.size > 0 ? seqs : [], keep: isMarked, known };
    }
    case 'view': {
      const seqs: number[] = new Array<number>(d.index.length);
      for (let i = 0; i < seqs.length; i++) seqs[i] = d.index.seqAt(i);
      return { seqs, keep: null };
    }
    default:
      return assertNever(scope, 'export scope');
  }
}

/** Flows the snapshot shows marked (older rows not read yet are not counted). */
export function countMarked(d: Pick<CommandDeps, 'flowAt' | 'heldCount'>): number {
  let n = 0;
  for (let i = 0; i < d.heldCount; i++) if (d.flowAt(i)?.marked) n++;
  return n;
}

/**
 * Without the store's `read` (a store without a session holds every flow whole), flows are taken
 * from the snapshot of the frame Enter was pressed in.
 */
export function snapshotReader(d: Pick<CommandDeps, 'index' | 'flowAt'>): ReadFlow {
  const first = firstSeq(d);
  const at = d.flowAt;
  return async (seq) => at(seq - first);
}
