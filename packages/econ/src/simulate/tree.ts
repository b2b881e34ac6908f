/** Walking plain JSON-like data: the parsed scenario and the resolved inputs. */

export interface Leaf {
  readonly path: string;
  readonly keys: readonly string[];
  /** The object or array holding the value, and its key there: a place to write a draw. */
  readonly parent: Record<string, unknown> | unknown[];
  readonly key: string;
}

const isContainer = (value: unknown): value is Record<string, unknown> | unknown[] =>
  typeof value === 'object' && value !== null && !ArrayBuffer.isView(value);

/** Every number (and optionally null) in `root`, depth first in key order. */
export function numericLeaves(root: unknown, options: { includeNull: boolean; intoArrays: boolean }): Leaf[] {
  const leaves: Leaf[] = [];
  const walk = (node: Record<string, unknown> | unknown[], keys: string[]): void => {
    for (const key of Object.keys(node)) {
      const value = (node as Record<string, unknown>)[key];
      const path = [...keys, key];
      if (typeof value === 'number' || (value === null && options.includeNull)) {
        leaves.push({ path: path.join('.'), keys: path, parent: node, key });
      } else if (isContainer(value) && (options.intoArrays || !Array.isArray(value))) {
        walk(value, path);
      }
    }
  };
  if (isContainer(root)) walk(root, []);
  return leaves;
}

/** A deep copy of plain data (objects, arrays, primitives). */
export function cloneData<T>(value: T): T {
  if (!isContainer(value)) return value;
  if (Array.isArray(value)) return value.map((item) => cloneData(item)) as T;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = cloneData((value as Record<string, unknown>)[key]);
  return copy as T;
}

/** The shape of `value` with every number blanked: two inputs with the same shape differ only in numbers. */
export function shapeOf(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'number' ? 0 : item));
}

export function write(leaf: Pick<Leaf, 'parent' | 'key'>, value: unknown): void {
  (leaf.parent as Record<string, unknown>)[leaf.key] = value;
}
