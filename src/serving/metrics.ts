/**
 * Prometheus metrics (GET /metrics): requests, errors by code, latency by model and version,
 * queue depth, batch sizes, worker utilization, swaps and shadow traffic. One registry per
 * server (not prom-client's global one), so several servers in a process stay apart.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class ServingMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'fresco_requests_total', help: 'Prediction requests answered, by model, version and transport.', labelNames: ['model', 'version', 'transport'], registers: [this.registry] });
  readonly errors = new Counter({ name: 'fresco_errors_total', help: 'Requests answered with an error, by model and stable error code.', labelNames: ['model', 'code'], registers: [this.registry] });
  readonly latency = new Histogram({
    name: 'fresco_request_duration_seconds',
    help: 'Time from reading a request to answering it, by model and version.',
    labelNames: ['model', 'version'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({ name: 'fresco_queue_depth_rows', help: 'Rows waiting for a worker, by model and version.', labelNames: ['model', 'version'], registers: [this.registry] });
  readonly batchSize = new Histogram({ name: 'fresco_batch_size_rows', help: 'Rows per batch handed to a worker.', labelNames: ['model', 'version'], buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], registers: [this.registry] });
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
  readonly loaded = new Gauge({ name: 'fresco_model_versions_loaded', help: 'Model versions loaded and serving.', registers: [this.registry] });

  /** Utilization sources, sampled at scrape time. */
  readonly #busy = new Map<string, { model: string; version: string; busyMs: () => number; workers: number; last: number; lastAt: number }>();

  trackUtilization(key: string, model: string, version: string, workers: number, busyMs: () => number): void {
    this.#busy.set(key, { model, version, busyMs, workers, last: busyMs(), lastAt: performance.now() });
  }

  untrack(key: string, model: string, version: string): void {
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
