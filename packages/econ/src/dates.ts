/**
 * Calendar dates as fractional months since year 0, so that "YYYY-MM" strings are exact whole
 * months (2023-03 to 2024-08 is 17 months) and days fall in between.
 */
import { type Schema, string } from './schema/schema.js';

const DATE_PATTERN = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Months since 0000-01-01 for "YYYY-MM" or "YYYY-MM-DD", or undefined if not a real date. */
export function monthIndex(date: string): number | undefined {
  const match = DATE_PATTERN.exec(date);
  if (!match) return undefined;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = match[3] === undefined ? 1 : Number(match[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return year * 12 + (month - 1) + (day - 1) / daysInMonth(year, month);
}

/** Inverse of `monthIndex`, rounded to the day: "YYYY-MM-DD". */
export function dateFromMonthIndex(index: number): string {
  const whole = Math.floor(index);
  const year = Math.floor(whole / 12);
  const month = (whole % 12) + 1;
  const day = Math.min(daysInMonth(year, month), 1 + Math.round((index - whole) * daysInMonth(year, month)));
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

export const dateSchema: Schema<string> = string({
  what: 'a date, "YYYY-MM" or "YYYY-MM-DD"',
  example: '2024-08',
  pattern: DATE_PATTERN,
});
