/**
 * A small SVG chart toolkit for the HTML report: line and horizontal bar charts (histogram and tornado
 * are in `svg-distribution.ts`, the shared axes and scales in `svg-frame.ts`).
 * Every chart has axes with nice-number ticks, axis titles and a legend, and every piece of text is
 * escaped. Pure: data in, one `<svg>` string out, no DOM and no fonts to load.
 *
 * Plotted marks carry classes that tests (and the browser check) look for: `series` on line paths,
 * `bar` on rectangles, `axis-title` on axis titles, `legend` on the legend.
 */

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
  logScale,
  logTicks,
  MUTED,
  markerLabels,
  niceTicks,
  plain,
  textWidth,
} from './svg-frame.js';

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
