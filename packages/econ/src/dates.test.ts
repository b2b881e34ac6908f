import { describe, expect, it } from 'vitest';
import { dateFromMonthIndex, monthIndex } from './dates.js';

describe('dates', () => {
  it('counts whole months between YYYY-MM dates', () => {
    expect((monthIndex('2024-08') ?? 0) - (monthIndex('2023-03') ?? 0)).toBe(17);
  });

  it('places days within the month', () => {
    // 16 Feb 2024: 15 of 29 days into February of a leap year
    expect((monthIndex('2024-02-16') ?? 0) - (monthIndex('2024-02') ?? 0)).toBeCloseTo(15 / 29, 9);
  });

  it('refuses dates that do not exist', () => {
    for (const bad of ['2024-13', '2023-02-29', '2024-00-10', '24-01', '2024-1', 'March']) {
      expect(monthIndex(bad)).toBeUndefined();
    }
    expect(monthIndex('2024-02-29')).toBeDefined();
  });

  it('round-trips to a day', () => {
    for (const date of ['2027-07-01', '2024-02-29', '1999-12-31']) {
      expect(dateFromMonthIndex(monthIndex(date) ?? 0)).toBe(date);
    }
  });
});
