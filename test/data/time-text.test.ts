/** Times in reports: epoch seconds and milliseconds as dates (a drift window's start read "1970-01-21" for epoch seconds), counters as written. */
import { describe, expect, it } from 'vitest';
import { timeText } from '../../src/data/time-text.js';

describe('timeText', () => {
  it('shows epoch milliseconds and epoch seconds as the same ISO time, and a window counter as a number', () => {
    expect(timeText(1794831300000)).toBe('2026-11-16T12:15:00.000Z');
    expect(timeText(1794831300)).toBe('2026-11-16T12:15:00.000Z');
    expect(timeText(7)).toBe('7');
    expect(timeText(Number.NaN)).toBeNull();
  });
});
