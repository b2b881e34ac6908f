/**
 * The fallback graph of the configured models: every fallback must name another configured model,
 * once, and no chain of fallbacks may lead back to where it started.
 */
import { closestMatch } from '@autocap/econ';
import type { ModelDocument } from './config-schema.js';

/**
 * Cycles in the fallback graph as `a -> b -> a` paths, from a depth-first walk: at least one in
 * every circular group of models, each reported once.
 */
export function findFallbackCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const nextState = state.get(next);
      if (nextState === 'open') {
        const cycle = [...stack.slice(stack.indexOf(next)), next];
        const key = [...cycle.slice(0, -1)].sort().join('\u0000');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push(cycle);
        }
      } else if (nextState === undefined) {
        visit(next);
      }
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

export function checkFallbacks(models: readonly ModelDocument[], errors: string[]): void {
  const names = models.map((model) => model.name);
  const graph = new Map<string, string[]>();
  models.forEach((model, index) => {
    const valid: string[] = [];
    (model.fallbacks ?? []).forEach((fallback, position) => {
      const field = `models.${index}.fallbacks.${position}`;
      if (fallback === model.name) {
        errors.push(
          `${field} names the model itself ("${fallback}"): a model cannot fall back to itself; remove it`,
        );
      } else if (!names.includes(fallback)) {
        const hint = closestMatch(fallback, names);
        errors.push(
          `${field} names "${fallback}", which is not a configured model${hint ? `: did you mean ${hint}?` : ''} (configured: ${names.join(', ')})`,
        );
      } else if (valid.includes(fallback)) {
        errors.push(`${field} repeats "${fallback}": list each fallback once`);
      } else {
        valid.push(fallback);
      }
    });
    if (!graph.has(model.name)) graph.set(model.name, valid);
  });
  for (const cycle of findFallbackCycles(graph)) {
    const first = names.indexOf(cycle[0] ?? '');
    errors.push(
      `models.${first}.fallbacks make a cycle: ${cycle.join(' -> ')}; remove one of these fallbacks`,
    );
  }
}
