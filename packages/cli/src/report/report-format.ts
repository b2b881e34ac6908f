/** Labels, colours and number formats the report's sections and charts share. */
import type { OptionName, RentVsOwnOutput } from '@autocap/econ';
import { percent, usd } from '../format/number.js';
import { escapeXml } from './svg-frame.js';

export const OPTION_LABELS: Readonly<Record<OptionName, string>> = {
  own: 'own the fleet (bursting above it)',
  hybrid: 'own the base load, rent the rest',
  rent: 'rent GPU-hours',
  api: 'buy API tokens',
};

/** One colour per option, the same in every chart and table. */
export const OPTION_COLORS: Readonly<Record<OptionName, string>> = {
  own: '#2563eb',
  hybrid: '#7c3aed',
  rent: '#ea580c',
  api: '#0d9488',
};

export const COLORS = {
  book: '#64748b',
  economic: '#2563eb',
  growth: '#16a34a',
  erosion: '#dc2626',
  net: '#0f172a',
  histogram: '#6366f1',
  low: '#0ea5e9',
  high: '#f97316',
  alert: '#b91c1c',
} as const;

export const h = escapeXml;

/** Axis labels: $0, $500k, $1.5M, -$2M. */
export function usdAxis(value: number): string {
  const sign = value < 0 ? '-' : '';
  const size = Math.abs(value);
  const short = (scaled: number): string => String(Number(scaled.toPrecision(3)));
  if (size >= 1e12) return `${sign}$${short(size / 1e12)}T`;
  if (size >= 1e9) return `${sign}$${short(size / 1e9)}B`;
  if (size >= 1e6) return `${sign}$${short(size / 1e6)}M`;
  if (size >= 1e3) return `${sign}$${short(size / 1e3)}k`;
  return `${sign}$${short(size)}`;
}

export const signedRate = (fraction: number): string =>
  `${fraction >= 0 ? '+' : '−'}${percent(Math.abs(fraction))}/yr`;
export const signedUsd = (value: number): string => (value > 0 ? `+${usd(value)}` : usd(value));
export const finite = (value: number, format: (value: number) => string): string =>
  Number.isFinite(value) ? format(value) : 'n/a';

export function utc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function optionEntries(
  output: RentVsOwnOutput,
): [OptionName, NonNullable<RentVsOwnOutput['options']['own']>][] {
  return (Object.entries(output.options) as [OptionName, RentVsOwnOutput['options']['own']][])
    .filter((entry): entry is [OptionName, NonNullable<RentVsOwnOutput['options']['own']>] => !!entry[1])
    .sort(([, a], [, b]) => a.npv_cost_usd - b.npv_cost_usd);
}

export const swatch = (color: string): string => `<span class="swatch" style="background:${color}"></span>`;

export function figure(options: {
  id: string;
  title: string;
  caption: string;
  svg: string;
  note?: string;
}): string {
  return [
    `<figure id="${h(options.id)}">`,
    `<h3>${h(options.title)}</h3>`,
    options.svg,
    `<figcaption>${h(options.caption)}${options.note ? ` <strong>${h(options.note)}</strong>` : ''}</figcaption>`,
    '</figure>',
  ].join('\n');
}
