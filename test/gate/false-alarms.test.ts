/**
 * False alarms: 20 clean retrains (Antidote's learner on different seeded samples of the Adult pool) gated
 * against one incumbent with every check on, probes included. At most one may be blocked.
 */
import { describe, expect, it } from 'vitest';
import { cleanRetrains } from './helpers/retrains.js';

describe('false alarms', () => {
  it('blocks at most one of 20 clean retrains with different seeds', { timeout: 240_000 }, async () => {
    const outcomes = await cleanRetrains(20, { trainRows: 8000, trustedRows: 6000 });
    const blocked = outcomes.filter((o) => o.decision === 'block');
    if (blocked.length) console.log(JSON.stringify(blocked, null, 1));
    expect(outcomes).toHaveLength(20);
    expect(blocked.length).toBeLessThanOrEqual(1);
  });
});
