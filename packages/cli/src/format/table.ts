/** Plain-text tables: aligned columns, a rule under the header, numbers right-aligned. */

export interface Column {
  readonly header: string;
  readonly align?: 'left' | 'right';
}

const width = (text: string): number => [...text].length;

function pad(text: string, size: number, align: 'left' | 'right'): string {
  const gap = ' '.repeat(Math.max(0, size - width(text)));
  return align === 'right' ? gap + text : text + gap;
}

export function table(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const sizes = columns.map((column, index) =>
    Math.max(width(column.header), ...rows.map((row) => width(row[index] ?? ''))),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, index) => pad(cell, sizes[index] ?? 0, columns[index]?.align ?? 'left'))
      .join('  ')
      .trimEnd();
  const header = line(columns.map((column) => column.header));
  const rule = sizes.map((size) => '─'.repeat(size)).join('  ');
  return [header, rule, ...rows.map(line)].join('\n');
}

/** A titled list of label/value/note rows. */
export function section(title: string, rows: readonly (readonly [string, string, string?])[]): string {
  const labelWidth = Math.max(...rows.map(([label]) => width(label)));
  const valueWidth = Math.max(...rows.map(([, value]) => width(value)));
  const body = rows.map(([label, value, note]) =>
    `  ${pad(label, labelWidth, 'left')}  ${pad(value, valueWidth, 'right')}${note ? `  ${note}` : ''}`.trimEnd(),
  );
  return [title, ...body].join('\n');
}
