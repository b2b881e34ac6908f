import { describe, expect, it } from 'vitest';
import { barChart, lineChart } from './svg-chart.js';
import { binSamples, histogram, tornadoChart } from './svg-distribution.js';
import { escapeXml, logTicks, niceNumber, niceTicks } from './svg-frame.js';

describe('nice numbers and ticks', () => {
  it('rounds to 1, 2, 5 or 10 times a power of ten', () => {
    expect(niceNumber(3.2, false)).toBe(5); // smallest nice number at least 3.2
    expect(niceNumber(3.2, true)).toBe(5); // 3.2 is past 3, nearest is 5
    expect(niceNumber(1.25e6, true)).toBe(1e6);
    expect(niceNumber(0.7, true)).toBe(1); // fraction 7 rounds up to 10 x 0.1
    expect(niceNumber(1.92e6, false)).toBe(2e6);
  });

  it('covers [0, 4.8M] with steps of 1M', () => {
    // step: nice(4.8M / 4 = 1.2M, nearest) = 1M; from 0 to ceil(4.8) x 1M = 5M
    expect(niceTicks(0, 4.8e6, 5)).toEqual({
      min: 0,
      max: 5e6,
      step: 1e6,
      values: [0, 1e6, 2e6, 3e6, 4e6, 5e6],
    });
  });

  it('straddles zero on a nice grid', () => {
    // step: nice(1.92M / 4 = 480k) = 500k; floor(-2.34) = -3 -> -1.5M; ceil(1.5) = 2 -> 1M
    expect(niceTicks(-1.17e6, 0.75e6, 5).values).toEqual([-1.5e6, -1e6, -5e5, 0, 5e5, 1e6]);
  });

  it('prints decimal steps exactly', () => {
    // step: nice(0.074 / 4 = 0.0185, nearest) = 0.02; floor(0.65) = 0 .. ceil(4.35) x 0.02 = 0.1
    expect(niceTicks(0.013, 0.087, 5).values).toEqual([0, 0.02, 0.04, 0.06, 0.08, 0.1]);
    // months 0..60 in about 8 ticks: step nice(60 / 7 = 8.6) = 10
    expect(niceTicks(0, 60, 8).values).toEqual([0, 10, 20, 30, 40, 50, 60]);
  });

  it('opens up an empty range instead of dividing by zero', () => {
    // 5 +- 2.5: step nice(5 / 4 = 1.25) = 1, from floor(2.5) = 2 to ceil(7.5) = 8
    expect(niceTicks(5, 5, 5).values).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(niceTicks(0, 0).values).toEqual([-1, -0.5, 0, 0.5, 1]);
    // -1M .. 1.5M in about 8 ticks: step nice(2.5M / 7 = 357k) = 500k, not a loose 1M
    expect(niceTicks(-1e6, 1.5e6, 8).values).toEqual([-1e6, -5e5, 0, 5e5, 1e6, 1.5e6]);
  });

  it('puts log ticks at 1, 2 and 5 per decade', () => {
    expect(logTicks(0.064, 6.87).values).toEqual([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10]);
    expect(logTicks(0.5, 2e4).values).toEqual([0.1, 1, 10, 100, 1000, 1e4, 1e5]);
  });
});

describe('escaping', () => {
  it('escapes the five XML specials', () => {
    expect(escapeXml(`<b>"A&B's"</b>`)).toBe('&lt;b&gt;&quot;A&amp;B&#39;s&quot;&lt;/b&gt;');
  });

  it('escapes every label, title and series name in a chart', () => {
    const evil = '<script>alert("x")</script>';
    const svg = lineChart({
      id: 'evil"id',
      title: evil,
      series: [
        {
          name: evil,
          color: '#000',
          points: [
            [0, 1],
            [1, 2],
          ],
        },
      ],
      xTitle: evil,
      yTitle: evil,
      xFormat: () => evil,
      xMarkers: [{ x: 0.5, label: evil }],
    });
    expect(svg).not.toContain('<script');
    expect(svg).not.toContain('"x"');
    expect(svg).toContain('data-chart="evil&quot;id"');
    expect(svg).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
  });
});

describe('charts', () => {
  it('draws a line chart: one path per series, axis titles, legend, ticks', () => {
    const svg = lineChart({
      id: 'test',
      title: 'Test',
      series: [
        {
          name: 'up',
          color: '#f00',
          points: [
            [0, 0],
            [10, 4.8e6],
          ],
        },
        {
          name: 'flat',
          color: '#00f',
          points: [
            [0, 1e6],
            [10, 1e6],
          ],
          dashed: true,
        },
      ],
      xTitle: 'Month',
      yTitle: 'Cost (USD)',
    });
    expect(svg.match(/<path class="series"[^>]* d="M[^"]+L[^"]+"/g)).toHaveLength(2);
    expect(svg).toContain('class="axis-title x-title"');
    expect(svg).toMatch(/class="axis-title y-title"[^>]*>Cost \(USD\)</);
    expect(svg).toMatch(/class="legend"[\s\S]*>up<[\s\S]*>flat</);
    for (const tick of ['5000000', '0', '10']) expect(svg).toContain(`>${tick}</text>`);
    expect(svg).not.toContain('NaN');
  });

  it('bins samples on nice edges and draws a bar per filled bin', () => {
    // low 1, high 3: width nice(2/3, nearest) = 0.5, edges 1, 1.5, ..., 3.5 (3 gets its own bin)
    const bins = binSamples(Float64Array.from([1, 2, 2, 3, 3, 3]), 3);
    expect(bins.map((bin) => [bin.from, bin.count])).toEqual([
      [1, 1],
      [1.5, 0],
      [2, 2],
      [2.5, 0],
      [3, 3],
    ]);
    const svg = histogram({
      id: 'h',
      title: 'H',
      samples: Float64Array.from([1, 2, 2, 3, 3, 3]),
      bins: 3,
      color: '#00f',
      seriesLabel: 'draws',
      xTitle: 'Value',
      yTitle: 'Draws',
      markers: [{ x: 2, label: 'p50' }],
    });
    expect(svg.match(/<rect class="bar"/g)).toHaveLength(3);
    expect(svg).toContain('>p50</text>');
  });

  it('draws horizontal bars and a tornado sorted by swing', () => {
    const bars = barChart({
      id: 'b',
      title: 'B',
      bars: [
        { label: 'a', value: 2, color: '#f00' },
        { label: 'b', value: -1, color: '#0f0' },
      ],
      valueTitle: 'Value',
      categoryTitle: 'Option',
    });
    expect(bars.match(/<rect class="bar"/g)).toHaveLength(2);
    const tornado = tornadoChart({
      id: 't',
      title: 'T',
      base: 0,
      rows: [
        { label: 'narrow', outputAtLow: -1, outputAtHigh: 1 },
        { label: 'wide', outputAtLow: -5, outputAtHigh: 4 },
      ],
      xTitle: 'NPV',
      yTitle: 'Input',
      lowColor: '#00f',
      highColor: '#f80',
    });
    expect(tornado.match(/<rect class="bar"/g)).toHaveLength(4);
    expect(tornado.indexOf('>wide<')).toBeLessThan(tornado.indexOf('>narrow<'));
    expect(tornado).toContain('>base 0</text>');
  });
});
