/**
 * `--set fleet.count=64`: the value is read as YAML, so numbers, booleans, lists and objects
 * keep their types (`--set 'points=[{date: 2024-01, price_usd: 4}]'`). Numeric path segments
 * index lists (`points.0.price_usd=30`).
 */
import { parse as parseYaml } from 'yaml';
import { CliError } from '../cli-error.js';

const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

function parseValue(raw: string): unknown {
  try {
    return parseYaml(raw);
  } catch {
    return raw;
  }
}

export function applyOverride(document: unknown, override: string): unknown {
  const equals = override.indexOf('=');
  if (equals <= 0) {
    throw new CliError(`--set ${override}: expected path=value (example: --set fleet.count=64)`, 'E_USAGE');
  }
  const path = override.slice(0, equals).trim().split('.');
  if (path.some((segment) => segment === '' || FORBIDDEN.has(segment))) {
    throw new CliError(
      `--set ${override}: "${override.slice(0, equals)}" is not a field path (example: fleet.count)`,
      'E_USAGE',
    );
  }
  const value = parseValue(override.slice(equals + 1));
  const root: Record<string, unknown> =
    typeof document === 'object' && document !== null ? (document as Record<string, unknown>) : {};
  let node: Record<string, unknown> = root;
  path.forEach((segment, index) => {
    if (index === path.length - 1) {
      node[segment] = value;
      return;
    }
    const next = node[segment];
    if (typeof next !== 'object' || next === null) {
      const child: Record<string, unknown> = {};
      node[segment] = child;
      node = child;
    } else {
      node = next as Record<string, unknown>;
    }
  });
  return root;
}
