// Every scenario, in the order `npm run bench` runs them.

import type { Scenario } from '../scenario.js';
import { bundle } from './bundle.js';
import { failingEndpoint } from './failing-endpoint.js';
import { memory } from './memory.js';
import { overhead } from './overhead.js';
import { persistent401 } from './persistent-401.js';
import { shortLived } from './short-lived.js';
import { stormScenario } from './storm.js';

export const SCENARIOS: readonly Scenario[] = [overhead, stormScenario, shortLived, failingEndpoint, persistent401, memory, bundle];
