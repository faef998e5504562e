/**
 * Prometheus metrics (GET /metrics): requests, errors by code, latency by model and version,
 * queue depth, batch sizes, worker utilization, swaps and shadow traffic. One registry per
 * server (not prom-client's global one), so several servers in a process stay apart.
 */
import { Counter, Gauge, Registry } from 'prom-client';

/**
 * A histogram whose children count locally (a bucket index, two additions) and are read at
 * scrape time. prom-client's own children (`histogram.labels(...)`) still validate and hash their
 * label object on every observation, which cost 2-3% of the event loop's time per request.
 * Exported with prom-client's text format (registered as a custom metric: `get()`).
 */
export class LocalHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #children = new Map<string, HistogramChild>();

  constructor(readonly name: string, readonly help: string, readonly labelNames: readonly string[], readonly buckets: readonly number[], registry: Registry) {
    registry.registerMetric(this as never);
  }

  /** The child for these label values, in labelNames order (created once, kept until `remove`). */
  child(...values: string[]): HistogramChild {
    const key = values.join('\u0000');
    let child = this.#children.get(key);
    if (!child) this.#children.set(key, (child = new HistogramChild(this.buckets, Object.fromEntries(this.labelNames.map((n, i) => [n, values[i] ?? ''])))));
    return child;
  }

  remove(...values: string[]): void {
    this.#children.delete(values.join('\u0000'));
  }

  reset(): void {
    for (const c of this.#children.values()) c.reset();
  }

  get(): { name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: { labels: Record<string, string | number>; value: number; metricName: string }[] } {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const c of this.#children.values()) {
      let acc = 0;
      this.buckets.forEach((le, i) => {
        acc += c.counts[i] as number;
        values.push({ labels: { le, ...c.labels }, value: acc, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', ...c.labels }, value: c.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { ...c.labels }, value: c.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...c.labels }, value: c.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values };
  }
}

export class HistogramChild {
  /** Per bucket (upper bounds inclusive), not cumulative; values above the last bound count only in `count`. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly buckets: readonly number[], readonly labels: Record<string, string>) {
    this.counts = new Float64Array(buckets.length);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const b = this.buckets;
    let i = 0;
    while (i < b.length && value > (b[i] as number)) i++;
    if (i < b.length) this.counts[i]! += 1;
    this.sum += value;
    this.count += 1;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

/**
 * One model version's metrics, looked up once: the request path adds to plain numbers and local
 * histograms; the counters and the queue gauge are brought up to date when /metrics is scraped.
 */
export class VersionMeters {
  readonly latency: HistogramChild;
  readonly batchSize: HistogramChild;
  /** Rows waiting, as last set (published at scrape time). */
  queueDepth = 0;
  /** Requests answered since the last scrape, by transport. */
  readonly pending = new Map<string, number>();

  constructor(readonly metrics: ServingMetrics, readonly model: string, readonly version: string) {
    this.latency = metrics.latency.child(model, version);
    this.batchSize = metrics.batchSize.child(model, version);
  }

  /** Counts one answered request (`fresco_requests_total{model,version,transport}`). */
  request(transport: string): void {
    this.pending.set(transport, (this.pending.get(transport) ?? 0) + 1);
  }

  /** Moves the pending counts into the prom-client counter. */
  flush(): void {
    for (const [transport, n] of this.pending) if (n) this.metrics.requests.inc({ model: this.model, version: this.version, transport }, n);
    this.pending.clear();
  }
}

export class ServingMetrics {
  readonly registry = new Registry();
  /** Live versions' meters: their pending counts and queue depths are published when scraped. */
  readonly #meters = new Set<VersionMeters>();
  readonly requests: Counter = new Counter({
    name: 'fresco_requests_total',
    help: 'Prediction requests answered, by model, version and transport.',
    labelNames: ['model', 'version', 'transport'],
    registers: [this.registry],
    collect: () => {
      for (const m of this.#meters) m.flush();
    },
  });
  readonly errors = new Counter({ name: 'fresco_errors_total', help: 'Requests answered with an error, by model and stable error code.', labelNames: ['model', 'code'], registers: [this.registry] });
  readonly latency = new LocalHistogram(
    'fresco_request_duration_seconds',
    'Time from reading a request to answering it, by model and version.',
    ['model', 'version'],
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    this.registry,
  );
  readonly queueDepth: Gauge = new Gauge({
    name: 'fresco_queue_depth_rows',
    help: 'Rows waiting for a worker, by model and version.',
    labelNames: ['model', 'version'],
    registers: [this.registry],
    collect: () => {
      for (const m of this.#meters) this.queueDepth.set({ model: m.model, version: m.version }, m.queueDepth);
    },
  });
  readonly batchSize = new LocalHistogram('fresco_batch_size_rows', 'Rows per batch handed to a worker.', ['model', 'version'], [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], this.registry);
  // Computed when scraped: busy time since the previous scrape over wall time x workers.
  readonly utilization: Gauge = new Gauge({
    name: 'fresco_worker_utilization_ratio',
    help: 'Share of time the workers of a model version spent running batches since the last scrape.',
    labelNames: ['model', 'version'],
    registers: [this.registry],
    collect: () => this.#sampleUtilization(),
  });
  readonly swaps = new Counter({ name: 'fresco_swaps_total', help: 'Hot swaps, by model and outcome (ok, failed).', labelNames: ['model', 'outcome'], registers: [this.registry] });
  readonly shadow = new Counter({ name: 'fresco_shadow_requests_total', help: 'Requests mirrored to a shadow version, by outcome (ok, error, dropped).', labelNames: ['model', 'version', 'outcome'], registers: [this.registry] });
  readonly workerRestarts = new Counter({ name: 'fresco_worker_restarts_total', help: 'Python and custom model workers that died while serving and were restarted, by model and version.', labelNames: ['model', 'version'], registers: [this.registry] });
  readonly loaded = new Gauge({ name: 'fresco_model_versions_loaded', help: 'Model versions loaded and serving.', registers: [this.registry] });

  /** Utilization sources, sampled at scrape time. */
  readonly #busy = new Map<string, { model: string; version: string; busyMs: () => number; workers: number; last: number; lastAt: number }>();

  /** The meters of a model version being loaded (published from now on, until `untrack`). */
  meters(model: string, version: string): VersionMeters {
    const m = new VersionMeters(this, model, version);
    this.#meters.add(m);
    return m;
  }

  trackUtilization(key: string, model: string, version: string, workers: number, busyMs: () => number): void {
    this.#busy.set(key, { model, version, busyMs, workers, last: busyMs(), lastAt: performance.now() });
  }

  untrack(key: string, model: string, version: string, meters?: VersionMeters): void {
    if (meters) {
      meters.flush();
      this.#meters.delete(meters);
    }
    this.#busy.delete(key);
    this.utilization.remove({ model, version });
    this.queueDepth.remove({ model, version });
  }

  #sampleUtilization(): void {
    const now = performance.now();
    for (const t of this.#busy.values()) {
      const busy = t.busyMs();
      const elapsed = (now - t.lastAt) * t.workers;
      if (elapsed > 0) this.utilization.set({ model: t.model, version: t.version }, Math.min(1, (busy - t.last) / elapsed));
      t.last = busy;
      t.lastAt = now;
    }
  }
}
