/**
 * Prometheus metrics in the text exposition format, without a client library: a counter or
 * histogram update on the hot path is a Map lookup and an add. Label values are escaped once,
 * when a series is first seen.
 */

type Labels = Readonly<Record<string, string>>;

/** Sorted, escaped label text per label set, computed once: updates are on the request path. */
const seriesKeys = new Map<string, string>();

function seriesKey(labels: Labels): string {
  let raw = '';
  for (const name in labels) raw += `${name}\u0001${labels[name]}\u0002`;
  let key = seriesKeys.get(raw);
  if (key === undefined) {
    key = buildSeriesKey(labels);
    if (seriesKeys.size < 100_000) seriesKeys.set(raw, key);
  }
  return key;
}

function buildSeriesKey(labels: Labels): string {
  const parts = Object.keys(labels)
    .sort()
    .map((name) => `${name}="${escapeLabel(labels[name] ?? '')}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

const escapeLabel = (value: string): string =>
  value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

interface Family {
  readonly name: string;
  readonly help: string;
  render(lines: string[]): void;
}

/** One counter series, looked up once and kept by the caller: an update is then one add. */
export interface CounterSeries {
  inc(value?: number): void;
}

export class Counter implements Family {
  private readonly series = new Map<string, { value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels, value = 1): void {
    this.cell(seriesKey(labels)).value += value;
  }
  /** The series for `labels`, to keep for repeated updates. */
  labels(labels: Labels): CounterSeries {
    const cell = this.cell(seriesKey(labels));
    return {
      inc(value = 1) {
        cell.value += value;
      },
    };
  }
  value(labels: Labels): number {
    return this.series.get(seriesKey(labels))?.value ?? 0;
  }
  render(lines: string[]): void {
    lines.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`);
    for (const [key, cell] of this.series) lines.push(`${this.name}${key} ${cell.value}`);
  }
  private cell(key: string): { value: number } {
    let cell = this.series.get(key);
    if (cell === undefined) {
      cell = { value: 0 };
      this.series.set(key, cell);
    }
    return cell;
  }
}

export interface HistogramSeries {
  observe(value: number): void;
}

interface HistogramEntry {
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

export class Histogram implements Family {
  private readonly series = new Map<string, HistogramEntry>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
  ) {}
  observe(labels: Labels, value: number): void {
    this.record(this.entry(seriesKey(labels)), value);
  }
  /** The series for `labels`, to keep for repeated observations. */
  labels(labels: Labels): HistogramSeries {
    const entry = this.entry(seriesKey(labels));
    return { observe: (value) => this.record(entry, value) };
  }
  private entry(key: string): HistogramEntry {
    let entry = this.series.get(key);
    if (!entry) {
      entry = { counts: new Float64Array(this.buckets.length), sum: 0, count: 0 };
      this.series.set(key, entry);
    }
    return entry;
  }
  private record(entry: HistogramEntry, value: number): void {
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= (this.buckets[i] as number)) entry.counts[i] = (entry.counts[i] as number) + 1;
    }
    entry.sum += value;
    entry.count++;
  }
  render(lines: string[]): void {
    lines.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`);
    for (const [key, entry] of this.series) {
      const inner = key === '' ? '' : `${key.slice(1, -1)},`;
      this.buckets.forEach((bound, i) => {
        lines.push(`${this.name}_bucket{${inner}le="${bound}"} ${entry.counts[i]}`);
      });
      lines.push(`${this.name}_bucket{${inner}le="+Inf"} ${entry.count}`);
      lines.push(`${this.name}_sum${key} ${entry.sum}`, `${this.name}_count${key} ${entry.count}`);
    }
  }
}

/** A value read when scraped (queue depth, circuit state). */
export class Gauge implements Family {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => readonly { labels: Labels; value: number }[],
  ) {}
  render(lines: string[]): void {
    lines.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`);
    for (const { labels, value } of this.read()) lines.push(`${this.name}${seriesKey(labels)} ${value}`);
  }
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export interface ModelSeries {
  readonly ok: CounterSeries;
  readonly input: CounterSeries;
  readonly cachedInput: CounterSeries;
  readonly output: CounterSeries;
  readonly reasoning: CounterSeries;
  readonly costUsd: CounterSeries;
  readonly ttft: HistogramSeries;
}

export interface RouteSeries {
  readonly requests: CounterSeries;
  readonly latency: HistogramSeries;
}

/** Everything the gateway exports. */
export class GatewayMetrics {
  readonly requests = new Counter('autocap_requests_total', 'Client requests by route and status code.');
  readonly attempts = new Counter(
    'autocap_upstream_attempts_total',
    'Upstream attempts by model served and outcome (ok, or the error kind).',
  );
  readonly tokens = new Counter(
    'autocap_tokens_total',
    'Tokens by model served and kind (input, cached_input, output, reasoning).',
  );
  readonly costUsd = new Counter('autocap_cost_usd_total', 'Cost in USD by model served and ownership.');
  readonly latency = new Histogram(
    'autocap_request_duration_seconds',
    'Whole-request latency through the gateway, by route.',
    LATENCY_BUCKETS,
  );
  readonly ttft = new Histogram(
    'autocap_time_to_first_token_seconds',
    'Time to the first streamed token, by model served.',
    LATENCY_BUCKETS,
  );
  readonly upstreamErrors = new Counter(
    'autocap_upstream_errors_total',
    'Upstream failures by model and error kind.',
  );
  private readonly gauges: Gauge[] = [];
  private readonly models = new Map<string, ModelSeries>();
  private readonly routes = new Map<string, RouteSeries>();

  /** The per-attempt series of one model, looked up once per model. */
  model(name: string, owned: boolean): ModelSeries {
    let series = this.models.get(name);
    if (series === undefined) {
      series = {
        ok: this.attempts.labels({ model: name, outcome: 'ok' }),
        input: this.tokens.labels({ model: name, kind: 'input' }),
        cachedInput: this.tokens.labels({ model: name, kind: 'cached_input' }),
        output: this.tokens.labels({ model: name, kind: 'output' }),
        reasoning: this.tokens.labels({ model: name, kind: 'reasoning' }),
        costUsd: this.costUsd.labels({ model: name, owned: String(owned) }),
        ttft: this.ttft.labels({ model: name }),
      };
      this.models.set(name, series);
    }
    return series;
  }

  /** The series of one route and status code. */
  route(route: string, status: number): RouteSeries {
    const key = `${route} ${status}`;
    let series = this.routes.get(key);
    if (series === undefined) {
      series = {
        requests: this.requests.labels({ route, status: String(status) }),
        latency: this.latency.labels({ route }),
      };
      // Routes are a fixed table and statuses a few dozen codes: this stays small.
      this.routes.set(key, series);
    }
    return series;
  }

  addGauge(gauge: Gauge): void {
    this.gauges.push(gauge);
  }

  render(): string {
    const lines: string[] = [];
    const families: Family[] = [
      this.requests,
      this.attempts,
      this.tokens,
      this.costUsd,
      this.latency,
      this.ttft,
      this.upstreamErrors,
      ...this.gauges,
    ];
    for (const family of families) family.render(lines);
    return `${lines.join('\n')}\n`;
  }
}
