import { describe, expect, it } from 'vitest';
import { runAnalysis } from '../analysis.js';
import { referenceData } from '../test-support/reference-data.js';
import { viability } from './viability.js';

const APP = {
  input_tokens_per_action: 20_000,
  output_tokens_per_action: 2_000,
  actions_per_user_month: 300,
  revenue_per_user_month_usd: 20,
  max_inference_share_of_revenue: 0.3,
};

function run(scenario: unknown) {
  const result = runAnalysis(viability, scenario, referenceData);
  if (!result.ok) throw new Error(result.issues.map((entry) => entry.message).join('\n'));
  return result.value.output;
}

describe('viability', () => {
  it('prices a user-month by hand', () => {
    const output = run({
      app: APP,
      price: { input_per_mtok_usd: 3, output_per_mtok_usd: 15, annual_decline: 0.5 },
    });
    // per action: 20,000 x $3/M + 2,000 x $15/M = $0.06 + $0.03 = $0.09; x 300 = $27
    expect(output.cost_per_action_usd).toBeCloseTo(0.09, 12);
    expect(output.cost_per_user_month_usd).toBeCloseTo(27, 12);
    expect(output.affordable_cost_per_user_month_usd).toBeCloseTo(6, 12);
    expect(output.required_price_drop_factor).toBeCloseTo(4.5, 12);
    // halving yearly, 4.5x takes log2(4.5) years
    expect(output.months_until_viable).toBeCloseTo(12 * Math.log2(4.5), 9);
  });

  it('is one order of magnitude away in 18-24 months at 10x per 18-24 months', () => {
    // Make the app exactly 10x too expensive: $60 against $6 affordable.
    const app = { ...APP, actions_per_user_month: 300 * (60 / 27) };
    for (const months of [18, 24]) {
      const output = run({
        app,
        price: { input_per_mtok_usd: 3, output_per_mtok_usd: 15, months_per_10x: months },
        as_of: '2026-01',
      });
      expect(output.required_price_drop_factor).toBeCloseTo(10, 9);
      expect(output.months_until_viable).toBeCloseTo(months, 9);
    }
    const byDecline = run({
      app,
      price: { input_per_mtok_usd: 3, output_per_mtok_usd: 15, annual_decline: 1 - 10 ** (-12 / 18) },
      as_of: '2026-01',
    });
    expect(byDecline.months_until_viable).toBeCloseTo(18, 9);
    expect(byDecline.viable_date).toBe('2027-07-01');
  });

  it('is viable now when the cost is under the line, and never when prices do not fall', () => {
    const cheap = run({
      app: APP,
      price: { input_per_mtok_usd: 0.5, output_per_mtok_usd: 1, annual_decline: 0.5 },
    });
    expect(cheap.viable_now).toBe(true);
    expect(cheap.months_until_viable).toBe(0);
    const flat = run({
      app: APP,
      price: { input_per_mtok_usd: 3, output_per_mtok_usd: 15, annual_decline: 0 },
    });
    expect(flat.months_until_viable).toBeNull();
  });

  it('needs exactly one way to state the decline', () => {
    const none = runAnalysis(
      viability,
      { app: APP, price: { input_per_mtok_usd: 3, output_per_mtok_usd: 15 } },
      referenceData,
    );
    expect(none.ok || none.issues[0]?.path).toBe('price.annual_decline');
    const both = runAnalysis(
      viability,
      {
        app: APP,
        price: { input_per_mtok_usd: 3, output_per_mtok_usd: 15, annual_decline: 0.5, months_per_10x: 18 },
      },
      referenceData,
    );
    expect(both.ok || both.issues[0]?.message).toMatch(/both given/);
  });
});
