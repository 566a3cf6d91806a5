/** The pickle rules, in the order they run. Adding a rule = one file here and one line below. */
import type { Finding } from '../../../core/finding.js';
import type { RuleMeta } from '../../../core/rule.js';
import type { RuleContext } from './context.js';
import * as dangerousGlobal from './dangerous-global.js';
import * as extCode from './ext-code.js';
import * as globalMutation from './global-mutation.js';
import * as indirectCall from './indirect-call.js';
import * as limit from './limit.js';
import * as malformed from './malformed.js';
import * as nestedPickle from './nested-pickle.js';
import * as unknownGlobal from './unknown-global.js';
import * as unsafeArguments from './unsafe-arguments.js';

interface PickleRule {
  meta: RuleMeta;
  check(ctx: RuleContext): Finding[];
}

export const PICKLE_RULES: readonly PickleRule[] = [
  malformed,
  limit,
  dangerousGlobal,
  unknownGlobal,
  extCode,
  globalMutation,
  indirectCall,
  unsafeArguments,
  nestedPickle,
];

/** Metadata of every pickle rule, for the scanner's rule catalogue (SARIF). */
export const pickleRules: RuleMeta[] = PICKLE_RULES.map((r) => r.meta);
