// PLACEHOLDER: the scanner's rule registry (issue 2) returns every artifact rule's metadata by id.
import type { RuleMeta } from '../core/rule.js';

export function ruleCatalog(): Map<string, RuleMeta> {
  return new Map();
}
