import type { Flow } from '../core/flow.js';
import type { Addon, HookDecision } from '../core/pipeline.js';
import type { FlowPredicate } from '../filter/index.js';

export interface MapLocalRuleOptions {
  /** e.g. `rules[3] map-local`. */
  name: string;
  filterText: string;
  matches: FlowPredicate;
  /** Absolute path of a file or directory (relative config paths are resolved by `compileRules`). */
  root: string;
}

/**
 * Answer matching requests from the local file system. The rule only decides: the network layer
 * reads the file, keeps the lookup inside `root` and answers 404 when there is nothing there.
 */
export function mapLocalRule(opts: MapLocalRuleOptions): Addon {
  const { name, filterText, matches, root } = opts;
  return {
    name,
    explain: () => `map-local ${filterText} → ${root}`,
    request(flow: Flow): HookDecision | void {
      if (!matches(flow)) return;
      const path = flow.request.path;
      const q = path.indexOf('?');
      return { action: 'serve-local', root, urlPath: q < 0 ? path : path.slice(0, q), tag: 'map-local' };
    },
  };
}
