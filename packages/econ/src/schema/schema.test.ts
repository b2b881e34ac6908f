import { describe, expect, it } from 'vitest';
import { array, idOrObject, number, object, optional, string, validate } from './schema.js';

interface Fleet {
  readonly count: number;
  readonly pue?: number | undefined;
}
interface Doc {
  readonly fleet: Fleet;
  readonly gpu: string | { readonly memory_bytes: number };
  readonly points?: readonly number[] | undefined;
}

const schema = object<Doc>(
  {
    fleet: object<Fleet>(
      {
        count: number({ unit: 'GPUs', min: 1, integer: true, example: 64 }),
        pue: optional(number({ unit: 'facility power / IT power', min: 1, example: 1.3 })),
      },
      { what: 'a fleet', example: '{count: 64}' },
    ),
    gpu: idOrObject(
      string({ what: 'a GPU id', example: 'h100-sxm' }),
      object<{ memory_bytes: number }>(
        { memory_bytes: number({ unit: 'bytes', above: 0, example: 80e9 }) },
        { what: 'a GPU spec', example: '{memory_bytes: 80e9}' },
      ),
    ),
    points: optional(
      array(number({ unit: 'USD', above: 0, example: 4 }), {
        what: 'a list of prices',
        example: '[4, 2]',
        minItems: 2,
      }),
    ),
  },
  { what: 'a scenario', example: '{fleet: {...}}' },
);

const messages = (input: unknown): string[] => {
  const result = validate(schema, input);
  return result.ok ? [] : result.issues.map((entry) => entry.message);
};

describe('schema', () => {
  it('accepts a valid document and drops absent optionals', () => {
    expect(validate(schema, { fleet: { count: 4 }, gpu: 'x' })).toEqual({
      ok: true,
      value: { fleet: { count: 4 }, gpu: 'x' },
    });
    expect(validate(schema, { fleet: { count: 4, pue: null }, gpu: { memory_bytes: 1 } }).ok).toBe(true);
  });

  it('names the field, the expected type with its unit, and an example', () => {
    expect(messages({ fleet: { count: -4 }, gpu: 'x' })).toEqual([
      'fleet.count is -4: expected a whole number (GPUs), at least 1 (example: fleet.count: 64)',
    ]);
    expect(messages({ fleet: { count: 'many' }, gpu: 'x' })).toEqual([
      'fleet.count is "many": expected a whole number (GPUs), at least 1 (example: fleet.count: 64)',
    ]);
    expect(messages({ fleet: {}, gpu: 'x' })).toEqual([
      'fleet.count is missing: expected a whole number (GPUs), at least 1 (example: fleet.count: 64)',
    ]);
    expect(messages({ fleet: { count: 2.5 }, gpu: 'x' })[0]).toMatch(
      /^fleet.count is 2.5: expected a whole number/,
    );
  });

  it('suggests the closest field for a misspelling', () => {
    expect(messages({ fleet: { cuont: 4 }, gpu: 'x' })[0]).toBe(
      'fleet.cuont is not a known field: did you mean fleet.count? (known fields here: count, pue)',
    );
  });

  it('reports every problem at once, with list indexes in the path', () => {
    const found = messages({ fleet: { count: 0, pue: 0.5 }, gpu: 7, points: [4, -1] });
    expect(found.map((line) => line.split(' ')[0])).toEqual(['fleet.count', 'fleet.pue', 'gpu', 'points.1']);
  });

  it('refuses NaN, infinities and non-objects at the root', () => {
    expect(messages({ fleet: { count: Number.NaN }, gpu: 'x' })[0]).toMatch(/^fleet.count is NaN/);
    expect(messages({ fleet: { count: Number.POSITIVE_INFINITY }, gpu: 'x' })[0]).toMatch(
      /^fleet.count is Infinity/,
    );
    expect(messages('just text')[0]).toMatch(/^the scenario is "just text": expected a scenario/);
    expect(messages([1])[0]).toMatch(/^the scenario is a list/);
  });
});
