/** Number formats for tables: money, SI quantities, percentages. */

const grouped = (value: number, digits: number): string =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** $8.58M, $31,905, $11.61, $0.0042: precise where it matters, short where it does not. */
export function usd(value: number): string {
  const sign = value < 0 ? '-' : '';
  const size = Math.abs(value);
  if (size >= 1e12) return `${sign}$${(size / 1e12).toFixed(2)}T`;
  if (size >= 1e9) return `${sign}$${(size / 1e9).toFixed(2)}B`;
  if (size >= 1e6) return `${sign}$${(size / 1e6).toFixed(2)}M`;
  if (size >= 1e3) return `${sign}$${grouped(size, 0)}`;
  if (size >= 1 || size === 0) return `${sign}$${grouped(size, 2)}`;
  return `${sign}$${size.toPrecision(2)}`;
}

const PREFIXES: readonly [number, string][] = [
  [1e15, 'P'],
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/** 3.35 TB/s, 989 TFLOP/s, 80 GB: three significant digits with an SI prefix. */
export function si(value: number, unit: string): string {
  const size = Math.abs(value);
  for (const [scale, prefix] of PREFIXES) {
    if (size >= scale) return `${significant(value / scale)} ${prefix}${unit}`;
  }
  return `${significant(value)} ${unit}`;
}

export function significant(value: number, digits = 3): string {
  if (value === 0) return '0';
  const size = Math.abs(value);
  if (size >= 10 ** digits) return grouped(value, 0);
  return String(Number(value.toPrecision(digits)));
}

export function percent(fraction: number, digits = 1): string {
  return `${(fraction * 100).toFixed(digits)}%`;
}

export function integer(value: number): string {
  return grouped(value, 0);
}
