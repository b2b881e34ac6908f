/**
 * The pieces every chart of the report's SVG toolkit shares: escaping, nice-number ticks, scales,
 * axes with titles, the frame and the legend. The charts are in `svg-chart.ts` (line, bar) and
 * `svg-distribution.ts` (histogram, tornado).
 */
/** Escapes text for XML/HTML element content and attribute values. */
export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/**
 * The "nice number" near `value` (Heckbert, Graphics Gems 1990): 1, 2, 5 or 10 times a power of
 * ten. `round` picks the nearest; otherwise the smallest nice number at least `value`.
 */
export function niceNumber(value: number, round: boolean): number {
  if (!(value > 0) || !Number.isFinite(value)) return 1;
  const exponent = Math.floor(Math.log10(value));
  const power = 10 ** exponent;
  const fraction = Number((value / power).toPrecision(12)); // 0.7 / 0.1 is 6.999...
  let nice: number;
  if (round) nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  else nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * power;
}

export interface Ticks {
  readonly min: number;
  readonly max: number;
  readonly step: number;
  readonly values: readonly number[];
}

/** Decimals that print multiples of a nice `step` exactly, with one to spare (0.5 -> 2, 500 -> 0). */
function decimalsOf(step: number): number {
  return Math.max(0, 1 - Math.floor(Math.log10(step) + 1e-9));
}

/**
 * About `count` ticks covering [low, high] at a nice step; the axis runs from the first to the last.
 * Heckbert's labelling, except that the step comes from the raw range rather than a rounded one,
 * which keeps the axis tight around the data.
 */
export function niceTicks(low: number, high: number, count = 5): Ticks {
  let from = Math.min(low, high);
  let to = Math.max(low, high);
  if (!Number.isFinite(from) || !Number.isFinite(to)) {
    from = 0;
    to = 1;
  }
  if (from === to) {
    const pad = from === 0 ? 1 : Math.abs(from) / 2;
    from -= pad;
    to += pad;
  }
  const step = niceNumber((to - from) / Math.max(1, count - 1), true);
  const min = Math.floor(from / step + 1e-9) * step;
  const max = Math.ceil(to / step - 1e-9) * step;
  const decimals = decimalsOf(step);
  const values: number[] = [];
  for (let index = 0; min + index * step <= max + step / 2; index++) {
    values.push(Number((min + index * step).toFixed(decimals)) || 0);
  }
  return { min: values[0] ?? min, max: values[values.length - 1] ?? max, step, values };
}

/** Ticks at 1, 2 and 5 times powers of ten (only the powers when the range spans many decades). */
export function logTicks(low: number, high: number): Ticks {
  const from = Math.floor(Math.log10(Math.max(Math.min(low, high), Number.MIN_VALUE)));
  const to = Math.ceil(Math.log10(Math.max(low, high, Number.MIN_VALUE)));
  const top = to > from ? to : from + 1;
  const multipliers = top - from > 3 ? [1] : [1, 2, 5];
  const values: number[] = [];
  for (let exponent = from; exponent <= top; exponent++) {
    for (const multiplier of multipliers) {
      const value = Number((multiplier * 10 ** exponent).toPrecision(12));
      if (value <= 10 ** top * (1 + 1e-9)) values.push(value);
    }
  }
  return { min: 10 ** from, max: 10 ** top, step: 10, values };
}

// ---------------------------------------------------------------------------------------------
// Shared layout

export const FONT = 12;
export const CHAR = 0.58; // average glyph width of a system sans-serif, in ems
export const INK = '#1e293b';
export const MUTED = '#64748b';
export const GRID = '#e2e8f0';
export const AXIS = '#94a3b8';

export const textWidth = (text: string, size = FONT): number => text.length * size * CHAR;
export const fixed = (value: number): string => String(Math.round(value * 10) / 10);
export const plain = (value: number): string => String(Number(value.toPrecision(6)));

export type Format = (value: number) => string;

export interface LegendItem {
  readonly label: string;
  readonly color: string;
  readonly shape: 'line' | 'dashed' | 'box';
}

export interface Box {
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

/** Lays the legend out left to right, wrapping; returns the SVG and the height it takes. */
export function legend(
  items: readonly LegendItem[],
  left: number,
  width: number,
): { svg: string; height: number } {
  if (items.length === 0) return { svg: '', height: 0 };
  const rowHeight = 20;
  let x = left;
  let y = 14;
  const parts: string[] = [];
  for (const item of items) {
    const size = 22 + textWidth(item.label) + 18;
    if (x > left && x + size > left + width) {
      x = left;
      y += rowHeight;
    }
    const swatch =
      item.shape === 'box'
        ? `<rect x="${fixed(x)}" y="${y - 9}" width="14" height="10" rx="2" fill="${item.color}"/>`
        : `<line x1="${fixed(x)}" y1="${y - 4}" x2="${fixed(x + 16)}" y2="${y - 4}" stroke="${item.color}" stroke-width="3"${item.shape === 'dashed' ? ' stroke-dasharray="5 3"' : ''}/>`;
    parts.push(
      `<g class="legend-item">${swatch}<text x="${fixed(x + 22)}" y="${y}" font-size="${FONT}" fill="${INK}">${escapeXml(item.label)}</text></g>`,
    );
    x += size;
  }
  return { svg: `<g class="legend">${parts.join('')}</g>`, height: y + 10 };
}

export interface AxisTick {
  readonly at: number;
  readonly label: string;
}

/** Gridlines, axis lines, tick labels and the two axis titles around a plot box. */
export function axes(options: {
  readonly box: Box;
  readonly width: number;
  readonly height: number;
  readonly xTicks: readonly AxisTick[];
  readonly yTicks: readonly AxisTick[];
  readonly xTitle: string;
  readonly yTitle: string;
  readonly yGrid?: boolean;
  readonly xGrid?: boolean;
}): string {
  const { box } = options;
  const parts: string[] = [];
  for (const tick of options.yTicks) {
    if (options.yGrid !== false)
      parts.push(
        `<line x1="${box.left}" y1="${fixed(tick.at)}" x2="${box.right}" y2="${fixed(tick.at)}" stroke="${GRID}"/>`,
      );
    parts.push(
      `<text x="${box.left - 8}" y="${fixed(tick.at + 4)}" text-anchor="end" font-size="${FONT}" fill="${MUTED}">${escapeXml(tick.label)}</text>`,
    );
  }
  for (const tick of options.xTicks) {
    if (options.xGrid)
      parts.push(
        `<line x1="${fixed(tick.at)}" y1="${box.top}" x2="${fixed(tick.at)}" y2="${box.bottom}" stroke="${GRID}"/>`,
      );
    parts.push(
      `<line x1="${fixed(tick.at)}" y1="${box.bottom}" x2="${fixed(tick.at)}" y2="${box.bottom + 5}" stroke="${AXIS}"/>`,
      `<text x="${fixed(tick.at)}" y="${box.bottom + 19}" text-anchor="middle" font-size="${FONT}" fill="${MUTED}">${escapeXml(tick.label)}</text>`,
    );
  }
  parts.push(
    `<line x1="${box.left}" y1="${box.bottom}" x2="${box.right}" y2="${box.bottom}" stroke="${AXIS}"/>`,
    `<line x1="${box.left}" y1="${box.top}" x2="${box.left}" y2="${box.bottom}" stroke="${AXIS}"/>`,
    `<text class="axis-title x-title" x="${fixed((box.left + box.right) / 2)}" y="${options.height - 8}" text-anchor="middle" font-size="13" font-weight="600" fill="${INK}">${escapeXml(options.xTitle)}</text>`,
    `<text class="axis-title y-title" transform="translate(16 ${fixed((box.top + box.bottom) / 2)}) rotate(-90)" text-anchor="middle" font-size="13" font-weight="600" fill="${INK}">${escapeXml(options.yTitle)}</text>`,
  );
  return `<g class="axes">${parts.join('')}</g>`;
}

export function frame(options: {
  readonly id: string;
  readonly title: string;
  readonly width: number;
  readonly height: number;
  readonly body: string;
}): string {
  const id = escapeXml(options.id);
  return [
    `<svg class="chart" data-chart="${id}" viewBox="0 0 ${options.width} ${options.height}" role="img" aria-labelledby="${id}-title">`,
    `<title id="${id}-title">${escapeXml(options.title)}</title>`,
    options.body,
    '</svg>',
  ].join('');
}

/**
 * Labels along the top of a plot for vertical markers, moved down a row when they would overlap
 * the one before.
 */
export function markerLabels(
  markers: readonly { readonly at: number; readonly label: string; readonly color: string }[],
  box: Box,
): string {
  const parts: string[] = [];
  const rowEnds: number[] = [];
  const sorted = [...markers].sort((a, b) => a.at - b.at);
  for (const marker of sorted) {
    const size = textWidth(marker.label, 11);
    const anchor = marker.at + size + 4 > box.right ? 'end' : 'start';
    const start = anchor === 'end' ? marker.at - size - 4 : marker.at + 4;
    let row = rowEnds.findIndex((end) => end < start);
    if (row === -1) {
      row = rowEnds.length;
      rowEnds.push(0);
    }
    rowEnds[row] = start + size + 6;
    const x = anchor === 'end' ? marker.at - 4 : marker.at + 4;
    parts.push(
      `<line x1="${fixed(marker.at)}" y1="${box.top}" x2="${fixed(marker.at)}" y2="${box.bottom}" stroke="${marker.color}" stroke-width="1.5" stroke-dasharray="4 3"/>`,
      `<text x="${fixed(x)}" y="${box.top + 12 + row * 14}" text-anchor="${anchor}" font-size="11" fill="${marker.color}">${escapeXml(marker.label)}</text>`,
    );
  }
  return `<g class="markers">${parts.join('')}</g>`;
}

export interface Scale {
  (value: number): number;
  readonly ticks: Ticks;
}

export function linearScale(ticks: Ticks, from: number, to: number): Scale {
  const span = ticks.max - ticks.min || 1;
  const scale = (value: number): number => from + ((value - ticks.min) / span) * (to - from);
  return Object.assign(scale, { ticks });
}

export function logScale(ticks: Ticks, from: number, to: number): Scale {
  const low = Math.log10(ticks.min);
  const span = Math.log10(ticks.max) - low || 1;
  const scale = (value: number): number =>
    from + ((Math.log10(Math.max(value, ticks.min / 1e3)) - low) / span) * (to - from);
  return Object.assign(scale, { ticks });
}

// ---------------------------------------------------------------------------------------------
// Line chart
