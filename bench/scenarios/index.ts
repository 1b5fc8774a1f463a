/** Every scenario, in the order a full run takes them. */
import { bulkScenario } from './bulk.js';
import { flowsRssScenario } from './flows-rss.js';
import { idleRssScenario } from './idle-rss.js';
import { newHostsScenario } from './new-hosts.js';
import { openLoopScenario } from './open-loop.js';
import { slowClientScenario } from './slow-client.js';
import { httpsH1Scenario, httpsH2Scenario, plainScenario } from './throughput.js';
import { tuiScenario } from './tui.js';
import type { Scenario } from './types.js';

export const scenarios: Scenario[] = [
  plainScenario,
  httpsH1Scenario,
  httpsH2Scenario,
  bulkScenario,
  openLoopScenario,
  newHostsScenario,
  idleRssScenario,
  flowsRssScenario,
  slowClientScenario,
  tuiScenario,
];
