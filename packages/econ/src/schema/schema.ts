/**
 * A small validator for scenario files. We own it rather than use a general schema library
 * because every message must name the field, the expected type with its unit, and an
 * example, and because `simulate` walks the numeric leaves of any scenario.
 */
import type { Issue, IssueCode, Result } from '../result.js';
import { closestMatch } from './suggest.js';

/** Returned by `parse` when the input was refused (issues were recorded). */
export const INVALID: unique symbol = Symbol('invalid');
export type Parsed<T> = T | typeof INVALID;

export type SchemaKind = 'number' | 'string' | 'boolean' | 'object' | 'array' | 'either';

export interface Schema<T> {
  readonly kind: SchemaKind;
  /** What a valid value is, with its unit: "a number (GPUs), at least 1". */
  readonly expected: string;
  /** A valid value as written in YAML: `64`, `h100-sxm`, `{date: 2024-03, price_usd: 4}`. */
  readonly example: string;
  readonly optional: boolean;
  /** Object fields, for tools that walk a scenario (help text, simulate). */
  readonly fields?: Readonly<Record<string, Schema<unknown>>>;
  /** The element schema of a list. */
  readonly item?: Schema<unknown>;
  /** True for whole-number fields (simulate rounds its draws for them). */
  readonly integer?: boolean;
  parse(input: unknown, path: string, issues: Issue[]): Parsed<T>;
}

function describeValue(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'string') return `"${input.length > 40 ? `${input.slice(0, 40)}…` : input}"`;
  if (typeof input === 'object') return 'an object';
  return String(input);
}

function report(
  issues: Issue[],
  entry: { code: IssueCode; path: string; problem: string; schema: Schema<unknown> },
): typeof INVALID {
  const { code, path, problem, schema } = entry;
  const field = path === '' ? 'the scenario' : path;
  const example = path === '' ? schema.example : `${path}: ${schema.example}`;
  issues.push({
    code,
    path,
    message: `${field} ${problem}: expected ${schema.expected} (example: ${example})`,
  });
  return INVALID;
}

export interface NumberOptions {
  /** What the number measures, with its unit: "USD per kWh", "GPUs", "fraction of peak". */
  readonly unit: string;
  readonly example: number;
  readonly min?: number;
  /** Strict lower bound (e.g. prices > 0). */
  readonly above?: number;
  readonly max?: number;
  readonly integer?: boolean;
}

function rangeText(options: NumberOptions): string {
  const lower =
    options.above !== undefined
      ? `greater than ${options.above}`
      : options.min !== undefined
        ? `at least ${options.min}`
        : undefined;
  if (lower && options.max !== undefined) return `, ${lower} and at most ${options.max}`;
  if (lower) return `, ${lower}`;
  if (options.max !== undefined) return `, at most ${options.max}`;
  return '';
}

/** Large examples in YAML's exponent form: 3.35e12, not 3350000000000. */
function exampleNumber(value: number): string {
  return Math.abs(value) >= 1e6 ? value.toExponential().replace('e+', 'e') : String(value);
}

export function number(options: NumberOptions): Schema<number> {
  const schema: Schema<number> = {
    kind: 'number',
    expected: `${options.integer ? 'a whole number' : 'a number'} (${options.unit})${rangeText(options)}`,
    example: exampleNumber(options.example),
    optional: false,
    ...(options.integer ? { integer: true } : {}),
    parse(input, path, issues) {
      if (input === undefined)
        return report(issues, { code: 'missing', path, problem: 'is missing', schema });
      if (typeof input !== 'number' || !Number.isFinite(input)) {
        return report(issues, {
          code: 'wrong_type',
          path,
          problem: `is ${describeValue(input)}`,
          schema,
        });
      }
      const outOfRange =
        (options.integer && !Number.isInteger(input)) ||
        (options.min !== undefined && input < options.min) ||
        (options.above !== undefined && input <= options.above) ||
        (options.max !== undefined && input > options.max);
      if (outOfRange) {
        return report(issues, { code: 'out_of_range', path, problem: `is ${input}`, schema });
      }
      return input;
    },
  };
  return schema;
}

export function string(options: { what: string; example: string; pattern?: RegExp }): Schema<string> {
  const schema: Schema<string> = {
    kind: 'string',
    expected: options.what,
    example: options.example,
    optional: false,
    parse(input, path, issues) {
      if (input === undefined)
        return report(issues, { code: 'missing', path, problem: 'is missing', schema });
      if (typeof input !== 'string' || input.trim() === '') {
        return report(issues, { code: 'wrong_type', path, problem: `is ${describeValue(input)}`, schema });
      }
      if (options.pattern && !options.pattern.test(input)) {
        return report(issues, { code: 'invalid_value', path, problem: `is ${describeValue(input)}`, schema });
      }
      return input;
    },
  };
  return schema;
}

export function choice<const T extends string>(values: readonly T[], example: T): Schema<T> {
  const schema: Schema<T> = {
    kind: 'string',
    expected: `one of ${values.join(', ')}`,
    example,
    optional: false,
    parse(input, path, issues) {
      if (input === undefined)
        return report(issues, { code: 'missing', path, problem: 'is missing', schema });
      if (typeof input !== 'string' || !(values as readonly string[]).includes(input)) {
        return report(issues, { code: 'invalid_value', path, problem: `is ${describeValue(input)}`, schema });
      }
      return input as T;
    },
  };
  return schema;
}

export function boolean(example: boolean): Schema<boolean> {
  const schema: Schema<boolean> = {
    kind: 'boolean',
    expected: 'true or false',
    example: String(example),
    optional: false,
    parse(input, path, issues) {
      if (input === undefined)
        return report(issues, { code: 'missing', path, problem: 'is missing', schema });
      if (typeof input !== 'boolean') {
        return report(issues, { code: 'wrong_type', path, problem: `is ${describeValue(input)}`, schema });
      }
      return input;
    },
  };
  return schema;
}

/** Marks a field optional: absent (or null) parses to `undefined`. */
export function optional<T>(inner: Schema<T>): Schema<T | undefined> {
  return {
    ...inner,
    optional: true,
    parse(input, path, issues) {
      return input === undefined || input === null ? undefined : inner.parse(input, path, issues);
    },
  };
}

type Shape<T> = { readonly [K in keyof T]-?: Schema<T[K]> };

function isPlainObject(input: unknown): input is Record<string, unknown> {
  return typeof input === 'object' && input !== null && !Array.isArray(input);
}

const join = (path: string, key: string | number): string => (path === '' ? String(key) : `${path}.${key}`);

export function object<T extends object>(
  shape: Shape<T>,
  options: { what: string; example: string },
): Schema<T> {
  const fields = shape as unknown as Record<string, Schema<unknown>>;
  const keys = Object.keys(fields);
  const schema: Schema<T> = {
    kind: 'object',
    expected: options.what,
    example: options.example,
    optional: false,
    fields,
    parse(input, path, issues) {
      if (input === undefined)
        return report(issues, { code: 'missing', path, problem: 'is missing', schema });
      if (!isPlainObject(input)) {
        return report(issues, { code: 'wrong_type', path, problem: `is ${describeValue(input)}`, schema });
      }
      let valid = true;
      for (const key of Object.keys(input)) {
        if (Object.hasOwn(fields, key)) continue;
        const hint = closestMatch(key, keys);
        issues.push({
          code: 'unknown_field',
          path: join(path, key),
          message: `${join(path, key)} is not a known field${hint ? `: did you mean ${join(path, hint)}?` : ''} (known fields here: ${keys.join(', ')})`,
        });
        valid = false;
      }
      const output: Record<string, unknown> = {};
      for (const key of keys) {
        const field = fields[key] as Schema<unknown>;
        const value = field.parse(input[key], join(path, key), issues);
        if (value === INVALID) valid = false;
        else if (value !== undefined) output[key] = value;
      }
      return valid ? (output as T) : INVALID;
    },
  };
  return schema;
}

export function array<T>(
  item: Schema<T>,
  options: { what: string; example: string; minItems?: number },
): Schema<T[]> {
  const minItems = options.minItems ?? 0;
  const schema: Schema<T[]> = {
    kind: 'array',
    expected: `${options.what}${minItems > 0 ? `, at least ${minItems}` : ''}`,
    example: options.example,
    optional: false,
    item,
    parse(input, path, issues) {
      if (input === undefined)
        return report(issues, { code: 'missing', path, problem: 'is missing', schema });
      if (!Array.isArray(input)) {
        return report(issues, { code: 'wrong_type', path, problem: `is ${describeValue(input)}`, schema });
      }
      if (input.length < minItems) {
        return report(issues, { code: 'out_of_range', path, problem: `has ${input.length} entries`, schema });
      }
      const output: T[] = [];
      let valid = true;
      input.forEach((element, index) => {
        const value = item.parse(element, join(path, index), issues);
        if (value === INVALID) valid = false;
        else output.push(value);
      });
      return valid ? output : INVALID;
    },
  };
  return schema;
}

/** A catalog id (string) or an inline object, told apart by type: `gpu: h100-sxm` or `gpu: {...}`. */
export function idOrObject<T extends object>(id: Schema<string>, inline: Schema<T>): Schema<string | T> {
  const schema: Schema<string | T> = {
    kind: 'either',
    expected: `${id.expected}, or ${inline.expected}`,
    example: id.example,
    optional: false,
    ...(inline.fields ? { fields: inline.fields } : {}),
    parse(input, path, issues) {
      if (input === undefined)
        return report(issues, { code: 'missing', path, problem: 'is missing', schema });
      if (typeof input === 'string') return id.parse(input, path, issues);
      if (isPlainObject(input)) return inline.parse(input, path, issues);
      return report(issues, { code: 'wrong_type', path, problem: `is ${describeValue(input)}`, schema });
    },
  };
  return schema;
}

/** The schema of the field at a dotted path (`fleet.count`, `workload.tiers.0.growth`), if any. */
export function schemaAt(schema: Schema<unknown>, path: string): Schema<unknown> | undefined {
  let node: Schema<unknown> | undefined = schema;
  for (const key of path.split('.')) {
    if (!node) return undefined;
    node = node.kind === 'array' ? node.item : node.fields?.[key];
  }
  return node;
}

/** Validates a whole scenario document. */
export function validate<T>(schema: Schema<T>, input: unknown): Result<T> {
  const issues: Issue[] = [];
  const value = schema.parse(input, '', issues);
  if (value === INVALID || issues.length > 0) return { ok: false, issues };
  return { ok: true, value };
}

/** Builds an issue for checks that span fields (done after parsing, in each analysis). */
export function issue(code: IssueCode, path: string, message: string): Issue {
  return { code, path, message: `${path} ${message}` };
}
