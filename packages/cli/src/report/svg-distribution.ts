/** Charts of a simulation's output for the report: the histogram of a metric and the tornado. */
import {
  axes,
  type Box,
  escapeXml,
  FONT,
  type Format,
  fixed,
  frame,
  INK,
  legend,
  linearScale,
  MUTED,
  markerLabels,
  niceNumber,
  niceTicks,
  plain,
  textWidth,
} from './svg-frame.js';
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
