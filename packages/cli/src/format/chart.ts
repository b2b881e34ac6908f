/** Horizontal bar charts in text, for the terminal. */

const BLOCKS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

function bar(cells: number): string {
  const whole = Math.floor(cells);
  const eighths = Math.round((cells - whole) * 8);
  return '█'.repeat(whole) + (eighths === 8 ? '█' : (BLOCKS[eighths] ?? ''));
}

export interface BarChartOptions {
  readonly title: string;
  readonly width?: number;
  /** A value drawn as a vertical marker, e.g. the affordable cost. */
  readonly marker?: { readonly value: number; readonly label: string };
  readonly format: (value: number) => string;
}

export function barChart(
  bars: readonly { readonly label: string; readonly value: number }[],
  options: BarChartOptions,
): string {
  const width = options.width ?? 40;
  const top = Math.max(...bars.map((entry) => entry.value), options.marker?.value ?? 0);
  const scale = top > 0 ? width / top : 0;
  const labelWidth = Math.max(...bars.map((entry) => entry.label.length));
  const markerAt = options.marker ? Math.round(options.marker.value * scale) : -1;
  const lines = bars.map((entry) => {
    let drawn = bar(entry.value * scale).padEnd(width + 1, ' ');
    if (markerAt >= 0 && markerAt <= width) {
      const chars = [...drawn];
      chars[markerAt] = chars[markerAt] === ' ' ? '┊' : (chars[markerAt] ?? '┊');
      drawn = chars.join('');
    }
    return `  ${entry.label.padStart(labelWidth)} ${drawn} ${options.format(entry.value)}`;
  });
  const legend = options.marker
    ? [`  ${' '.repeat(labelWidth)} ┊ = ${options.marker.label} (${options.format(options.marker.value)})`]
    : [];
  return [options.title, ...lines, ...legend].join('\n');
}
