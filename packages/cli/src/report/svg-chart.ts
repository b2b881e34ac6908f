/**
 * A small SVG chart toolkit for the HTML report: line, horizontal bar, histogram and tornado charts.
 * Every chart has axes with nice-number ticks, axis titles and a legend, and every piece of text is
 * escaped. Pure: data in, one `<svg>` string out, no DOM and no fonts to load.
 *
 * Plotted marks carry classes that tests (and the browser check) look for: `series` on line paths,
 * `bar` on rectangles, `axis-title` on axis titles, `legend` on the legend.
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

const FONT = 12;
const CHAR = 0.58; // average glyph width of a system sans-serif, in ems
const INK = '#1e293b';
const MUTED = '#64748b';
const GRID = '#e2e8f0';
const AXIS = '#94a3b8';

const textWidth = (text: string, size = FONT): number => text.length * size * CHAR;
const fixed = (value: number): string => String(Math.round(value * 10) / 10);
const plain = (value: number): string => String(Number(value.toPrecision(6)));

export type Format = (value: number) => string;

export interface LegendItem {
  readonly label: string;
  readonly color: string;
  readonly shape: 'line' | 'dashed' | 'box';
}

interface Box {
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

/** Lays the legend out left to right, wrapping; returns the SVG and the height it takes. */
function legend(items: readonly LegendItem[], left: number, width: number): { svg: string; height: number } {
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

interface AxisTick {
  readonly at: number;
  readonly label: string;
}

/** Gridlines, axis lines, tick labels and the two axis titles around a plot box. */
function axes(options: {
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

function frame(options: {
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
function markerLabels(
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

interface Scale {
  (value: number): number;
  readonly ticks: Ticks;
}

function linearScale(ticks: Ticks, from: number, to: number): Scale {
  const span = ticks.max - ticks.min || 1;
  const scale = (value: number): number => from + ((value - ticks.min) / span) * (to - from);
  return Object.assign(scale, { ticks });
}

function logScale(ticks: Ticks, from: number, to: number): Scale {
  const low = Math.log10(ticks.min);
  const span = Math.log10(ticks.max) - low || 1;
  const scale = (value: number): number =>
    from + ((Math.log10(Math.max(value, ticks.min / 1e3)) - low) / span) * (to - from);
  return Object.assign(scale, { ticks });
}

// ---------------------------------------------------------------------------------------------
// Line chart

export interface LineSeries {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
  readonly dashed?: boolean;
  /** Draw a dot at every point (for short yearly series). */
  readonly dots?: boolean;
}

export interface LineChartOptions {
  /** Stable id: `data-chart` attribute and the prefix of element ids. */
  readonly id: string;
  /** Accessible title (the `<title>` element). */
  readonly title: string;
  readonly series: readonly LineSeries[];
  readonly xTitle: string;
  readonly yTitle: string;
  readonly xFormat?: Format;
  readonly yFormat?: Format;
  readonly yScale?: 'linear' | 'log';
  /** Clip the y axis here; series above it run off the top of the plot. */
  readonly yMax?: number;
  /** Keep zero on a linear y axis. */
  readonly includeZero?: boolean;
  readonly xMarkers?: readonly { readonly x: number; readonly label: string; readonly color?: string }[];
  /** Horizontal reference lines. */
  readonly yMarkers?: readonly { readonly y: number; readonly label: string; readonly color?: string }[];
  readonly width?: number;
  readonly height?: number;
}

export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 880;
  const height = options.height ?? 360;
  const xFormat = options.xFormat ?? plain;
  const yFormat = options.yFormat ?? plain;
  const all = options.series.flatMap((series) => series.points);
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y).filter(Number.isFinite);
  const yExtra = (options.yMarkers ?? []).map((marker) => marker.y);
  const log = options.yScale === 'log';
  let yLow = Math.min(...ys, ...yExtra);
  let yHigh = Math.max(...ys, ...yExtra);
  if (options.yMax !== undefined) yHigh = Math.min(yHigh, options.yMax);
  if (!log && options.includeZero) {
    yLow = Math.min(yLow, 0);
    yHigh = Math.max(yHigh, 0);
  }
  const yTicks = log ? logTicks(yLow, yHigh) : niceTicks(yLow, yHigh, 6);
  const xTicks = niceTicks(Math.min(...xs), Math.max(...xs), 8);
  const left = 16 + 14 + Math.max(...yTicks.values.map((value) => textWidth(yFormat(value)))) + 10;
  const key = legend(
    options.series.map((series) => ({
      label: series.name,
      color: series.color,
      shape: series.dashed ? ('dashed' as const) : ('line' as const),
    })),
    left,
    width - left - 16,
  );
  const box: Box = { left, right: width - 20, top: key.height + 12, bottom: height - 48 };
  const x = linearScale(xTicks, box.left, box.right);
  const y = (log ? logScale : linearScale)(yTicks, box.bottom, box.top);
  const clip = `${escapeXml(options.id)}-clip`;
  const paths = options.series.map((series) => {
    const d = series.points
      .filter(([, value]) => Number.isFinite(value))
      .map(([px, py], index) => `${index === 0 ? 'M' : 'L'}${fixed(x(px))} ${fixed(y(py))}`)
      .join('');
    const dots = series.dots
      ? series.points
          .map(
            ([px, py]) =>
              `<circle cx="${fixed(x(px))}" cy="${fixed(y(py))}" r="3.5" fill="${series.color}"/>`,
          )
          .join('')
      : '';
    return `<path class="series" data-series="${escapeXml(series.name)}" d="${d}" fill="none" stroke="${series.color}" stroke-width="2.5" stroke-linejoin="round"${series.dashed ? ' stroke-dasharray="7 4"' : ''}/>${dots}`;
  });
  const references = (options.yMarkers ?? []).map((marker) => {
    const at = fixed(y(marker.y));
    const color = marker.color ?? MUTED;
    return `<line x1="${box.left}" y1="${at}" x2="${box.right}" y2="${at}" stroke="${color}" stroke-width="1.5" stroke-dasharray="4 3"/><text x="${box.right - 4}" y="${Number(at) - 6}" text-anchor="end" font-size="11" fill="${color}">${escapeXml(marker.label)}</text>`;
  });
  const markers = markerLabels(
    (options.xMarkers ?? []).map((marker) => ({
      at: x(marker.x),
      label: marker.label,
      color: marker.color ?? MUTED,
    })),
    box,
  );
  const body = [
    key.svg,
    axes({
      box,
      width,
      height,
      xTicks: xTicks.values.map((value) => ({ at: x(value), label: xFormat(value) })),
      yTicks: yTicks.values.map((value) => ({ at: y(value), label: yFormat(value) })),
      xTitle: options.xTitle,
      yTitle: options.yTitle,
    }),
    `<clipPath id="${clip}"><rect x="${box.left}" y="${box.top - 4}" width="${box.right - box.left + 4}" height="${box.bottom - box.top + 8}"/></clipPath>`,
    `<g class="plot" clip-path="url(#${clip})">${references.join('')}${paths.join('')}</g>`,
    markers,
  ].join('');
  return frame({ id: options.id, title: options.title, width, height, body });
}

// ---------------------------------------------------------------------------------------------
// Horizontal bar chart

export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly color: string;
}

export interface BarChartOptions {
  readonly id: string;
  readonly title: string;
  readonly bars: readonly Bar[];
  /** Title of the value (horizontal) axis. */
  readonly valueTitle: string;
  /** Title of the category (vertical) axis. */
  readonly categoryTitle: string;
  readonly format?: Format;
  readonly width?: number;
}

/** One horizontal bar per category, its value printed at the bar's end. */
export function barChart(options: BarChartOptions): string {
  const width = options.width ?? 880;
  const format = options.format ?? plain;
  const rowHeight = 34;
  const values = options.bars.map((bar) => bar.value);
  const ticks = niceTicks(Math.min(0, ...values), Math.max(0, ...values), 6);
  const left = 16 + 14 + Math.max(...options.bars.map((bar) => textWidth(bar.label))) + 12;
  const height = 24 + rowHeight * options.bars.length + 52;
  const valueRoom = Math.max(...options.bars.map((bar) => textWidth(format(bar.value)))) + 10;
  const box: Box = { left, right: width - 20 - valueRoom, top: 16, bottom: height - 48 };
  const x = linearScale(ticks, box.left, box.right);
  const zero = x(0);
  const bars = options.bars.map((bar, index) => {
    const top = box.top + index * rowHeight + 6;
    const end = x(bar.value);
    const from = Math.min(zero, end);
    const size = Math.max(Math.abs(end - zero), 1);
    const labelX = bar.value >= 0 ? from + size + 6 : from - 6;
    return [
      `<rect class="bar" data-label="${escapeXml(bar.label)}" x="${fixed(from)}" y="${top}" width="${fixed(size)}" height="${rowHeight - 12}" rx="3" fill="${bar.color}"/>`,
      `<text x="${box.left - 8}" y="${top + (rowHeight - 12) / 2 + 4}" text-anchor="end" font-size="${FONT}" fill="${INK}">${escapeXml(bar.label)}</text>`,
      `<text x="${fixed(labelX)}" y="${top + (rowHeight - 12) / 2 + 4}" text-anchor="${bar.value >= 0 ? 'start' : 'end'}" font-size="${FONT}" font-weight="600" fill="${INK}">${escapeXml(format(bar.value))}</text>`,
    ].join('');
  });
  const body = [
    axes({
      box,
      width,
      height,
      xTicks: ticks.values.map((value) => ({ at: x(value), label: format(value) })),
      yTicks: [],
      xTitle: options.valueTitle,
      yTitle: options.categoryTitle,
      xGrid: true,
    }),
    `<g class="plot">${bars.join('')}</g>`,
  ].join('');
  return frame({ id: options.id, title: options.title, width, height, body });
}

// ---------------------------------------------------------------------------------------------
// Histogram

export interface HistogramOptions {
  readonly id: string;
  readonly title: string;
  readonly samples: ArrayLike<number>;
  readonly color: string;
  readonly seriesLabel: string;
  readonly xTitle: string;
  readonly yTitle: string;
  readonly xFormat?: Format;
  /** About this many bins (the width is rounded to a nice number). */
  readonly bins?: number;
  readonly markers?: readonly { readonly x: number; readonly label: string; readonly color?: string }[];
  readonly width?: number;
  readonly height?: number;
}

export interface Bin {
  readonly from: number;
  readonly to: number;
  readonly count: number;
}

/** Equal-width bins on nice edges covering every finite sample. */
export function binSamples(samples: ArrayLike<number>, bins: number): Bin[] {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (let index = 0; index < samples.length; index++) {
    const value = samples[index] as number;
    if (!Number.isFinite(value)) continue;
    low = Math.min(low, value);
    high = Math.max(high, value);
  }
  if (low > high) return [];
  if (low === high) {
    const pad = low === 0 ? 0.5 : Math.abs(low) / 20;
    low -= pad;
    high += pad;
  }
  const size = niceNumber((high - low) / Math.max(1, bins), true);
  const start = Math.floor(low / size) * size;
  const count = Math.max(1, Math.ceil((high - start) / size + 1e-9));
  const result = Array.from({ length: count }, (_, index) => ({
    from: start + index * size,
    to: start + (index + 1) * size,
    count: 0,
  }));
  for (let index = 0; index < samples.length; index++) {
    const value = samples[index] as number;
    if (!Number.isFinite(value)) continue;
    const slot = Math.min(count - 1, Math.floor((value - start) / size));
    const bin = result[slot];
    if (bin) bin.count += 1;
  }
  return result;
}

export function histogram(options: HistogramOptions): string {
  const width = options.width ?? 880;
  const height = options.height ?? 340;
  const xFormat = options.xFormat ?? plain;
  const bins = binSamples(options.samples, options.bins ?? 30);
  const first = bins[0];
  const last = bins[bins.length - 1];
  const markerXs = (options.markers ?? []).map((marker) => marker.x);
  const xTicks = niceTicks(Math.min(first?.from ?? 0, ...markerXs), Math.max(last?.to ?? 1, ...markerXs), 8);
  const top = Math.max(1, ...bins.map((bin) => bin.count));
  const counted = niceTicks(0, top, 5);
  const yTicks = counted.step < 1 ? niceTicks(0, Math.max(top, 4), 5) : counted;
  const left = 16 + 14 + Math.max(...yTicks.values.map((value) => textWidth(plain(value)))) + 10;
  const key = legend(
    [{ label: options.seriesLabel, color: options.color, shape: 'box' }],
    left,
    width - left,
  );
  const rows = Math.max(1, Math.min(3, (options.markers ?? []).length));
  const box: Box = { left, right: width - 20, top: key.height + 12 + rows * 14, bottom: height - 48 };
  const x = linearScale(xTicks, box.left, box.right);
  const y = linearScale(yTicks, box.bottom, box.top);
  const rects = bins
    .filter((bin) => bin.count > 0)
    .map((bin) => {
      const from = x(bin.from);
      const size = Math.max(1, x(bin.to) - from - 1);
      const at = y(bin.count);
      return `<rect class="bar" x="${fixed(from + 0.5)}" y="${fixed(at)}" width="${fixed(size)}" height="${fixed(box.bottom - at)}" fill="${options.color}"/>`;
    });
  const body = [
    key.svg,
    axes({
      box,
      width,
      height,
      xTicks: xTicks.values.map((value) => ({ at: x(value), label: xFormat(value) })),
      yTicks: yTicks.values.map((value) => ({ at: y(value), label: plain(value) })),
      xTitle: options.xTitle,
      yTitle: options.yTitle,
    }),
    `<g class="plot">${rects.join('')}</g>`,
    markerLabels(
      (options.markers ?? []).map((marker) => ({
        at: x(marker.x),
        label: marker.label,
        color: marker.color ?? INK,
      })),
      { ...box, top: key.height + 8 },
    ),
  ].join('');
  return frame({ id: options.id, title: options.title, width, height, body });
}

// ---------------------------------------------------------------------------------------------
// Tornado

export interface TornadoRow {
  readonly label: string;
  /** A second, smaller line under the label, e.g. the input's range. */
  readonly detail?: string;
  /** The output with this input at its low value, the others at their medians. */
  readonly outputAtLow: number;
  readonly outputAtHigh: number;
}

export interface TornadoOptions {
  readonly id: string;
  readonly title: string;
  readonly base: number;
  readonly rows: readonly TornadoRow[];
  readonly xTitle: string;
  readonly yTitle: string;
  readonly format?: Format;
  readonly lowColor: string;
  readonly highColor: string;
  readonly lowLabel?: string;
  readonly highLabel?: string;
  readonly width?: number;
}

/** One row per input, widest swing on top: bars from the base out to the output at each end. */
export function tornadoChart(options: TornadoOptions): string {
  const width = options.width ?? 880;
  const format = options.format ?? plain;
  const rows = [...options.rows].sort(
    (a, b) => Math.abs(b.outputAtHigh - b.outputAtLow) - Math.abs(a.outputAtHigh - a.outputAtLow),
  );
  const rowHeight = rows.some((row) => row.detail) ? 40 : 30;
  const labels = rows.flatMap((row) => [textWidth(row.label), textWidth(row.detail ?? '', 11)]);
  const left = 16 + 14 + Math.min(360, Math.max(40, ...labels)) + 14;
  const key = legend(
    [
      { label: options.lowLabel ?? 'input at its low value', color: options.lowColor, shape: 'box' },
      { label: options.highLabel ?? 'input at its high value', color: options.highColor, shape: 'box' },
    ],
    left,
    width - left,
  );
  const top = key.height + 30;
  const height = top + rowHeight * rows.length + 56;
  const outputs = rows.flatMap((row) => [row.outputAtLow, row.outputAtHigh]);
  const ticks = niceTicks(Math.min(options.base, ...outputs), Math.max(options.base, ...outputs), 7);
  const box: Box = { left, right: width - 24, top, bottom: height - 48 };
  const x = linearScale(ticks, box.left, box.right);
  const base = x(options.base);
  const bars = rows.map((row, index) => {
    const y = box.top + index * rowHeight + 5;
    const barHeight = Math.min(20, rowHeight - 10);
    const middle = y + (rowHeight - 10) / 2;
    const side = (value: number, color: string, end: 'low' | 'high'): string => {
      const at = x(value);
      const from = Math.min(at, base);
      return `<rect class="bar" data-end="${end}" x="${fixed(from)}" y="${fixed(middle - barHeight / 2)}" width="${fixed(Math.max(1, Math.abs(at - base)))}" height="${barHeight}" fill="${color}"/>`;
    };
    return [
      side(row.outputAtLow, options.lowColor, 'low'),
      side(row.outputAtHigh, options.highColor, 'high'),
      row.detail
        ? `<text x="${box.left - 10}" y="${fixed(middle - 2)}" text-anchor="end" font-size="${FONT}" fill="${INK}">${escapeXml(row.label)}</text><text x="${box.left - 10}" y="${fixed(middle + 12)}" text-anchor="end" font-size="11" fill="${MUTED}">${escapeXml(row.detail)}</text>`
        : `<text x="${box.left - 10}" y="${fixed(middle + 4)}" text-anchor="end" font-size="${FONT}" fill="${INK}">${escapeXml(row.label)}</text>`,
    ].join('');
  });
  const body = [
    key.svg,
    axes({
      box,
      width,
      height,
      xTicks: ticks.values.map((value) => ({ at: x(value), label: format(value) })),
      yTicks: [],
      xTitle: options.xTitle,
      yTitle: options.yTitle,
      xGrid: true,
    }),
    `<g class="plot">${bars.join('')}</g>`,
    markerLabels([{ at: base, label: `base ${format(options.base)}`, color: INK }], {
      ...box,
      top: box.top - 20,
    }),
  ].join('');
  return frame({ id: options.id, title: options.title, width, height, body });
}
