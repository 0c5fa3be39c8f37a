import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

const MAX_CHANNEL_LABELS = 100;
const OTHER_CHANNELS = '_other';

/**
 * Channel names come from CSV headers: a label series per name would grow without bound with files
 * of ever new columns. The first MAX_CHANNEL_LABELS names get their own series, the rest share one.
 */
export class CappedLabelCounter {
  private readonly seen = new Set<string>();

  constructor(private readonly counter: Counter<'channel'>) {}

  inc(labels: { channel: string }, value = 1): void {
    let channel = labels.channel;
    if (!this.seen.has(channel)) {
      if (this.seen.size >= MAX_CHANNEL_LABELS) channel = OTHER_CHANNELS;
      else this.seen.add(channel);
    }
    this.counter.inc({ channel }, value);
  }
}

/**
 * The service's Prometheus metrics, one registry per app instance (tests boot several apps in one
 * process, so nothing goes to prom-client's global registry).
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly batchesProcessed = new Counter({
    name: 'anomaly_batches_processed_total',
    help: 'Batches scored and written',
    registers: [this.registry],
  });
  readonly batchesFailed = new Counter({
    name: 'anomaly_batches_failed_total',
    help: 'Batches that failed for good (bad input, or retries exhausted)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly batchWorkerCrashes = new Counter({
    name: 'anomaly_batch_worker_crashes_total',
    help: 'Batch worker threads that died (their batches were retried on a new thread)',
    registers: [this.registry],
  });
  readonly rowsScored = new Counter({
    name: 'anomaly_rows_scored_total',
    help: 'Rows scored',
    registers: [this.registry],
  });
  readonly anomaliesFlagged = new CappedLabelCounter(
    new Counter({
      name: 'anomaly_anomalies_flagged_total',
      help: `Anomalous values flagged, by channel ("isolation" for rows flagged by the forest alone; "${OTHER_CHANNELS}" beyond ${MAX_CHANNEL_LABELS} channels)`,
      labelNames: ['channel'] as const,
      registers: [this.registry],
    }),
  );
  readonly batchDuration = new Histogram({
    name: 'anomaly_batch_duration_seconds',
    help: 'Time to score one batch end to end (read, score, write, fold)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'anomaly_queue_depth',
    help: 'Batches waiting or being processed',
    registers: [this.registry],
  });
  readonly notifications = new Counter({
    name: 'anomaly_notifications_total',
    help: 'SNS messages received, by message type and verification outcome',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly baselineFlushTime = new Gauge({
    name: 'anomaly_baseline_last_flush_timestamp_seconds',
    help: 'When the baseline was last flushed to state/baseline.json (attempted)',
    registers: [this.registry],
  });
  readonly baselineFlushSuccess = new Gauge({
    name: 'anomaly_baseline_last_flush_success',
    help: '1 when the last baseline flush succeeded, 0 when it failed',
    registers: [this.registry],
  });

  readonly abortedRequests = new Counter({
    name: 'anomaly_http_aborted_requests_total',
    help: 'Requests whose client hung up before sending the whole body',
    registers: [this.registry],
  });
  readonly feedback = new Counter({
    name: 'anomaly_feedback_total',
    help: 'Operator feedback applied (POST /feedback and replays at start-up), by verdict',
    labelNames: ['verdict'] as const,
    registers: [this.registry],
  });
  readonly exclusionWindows = new Gauge({
    name: 'anomaly_exclusion_windows',
    help: 'Incident and maintenance windows in force (rows in them are not learned)',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  recordFlush(ok: boolean): void {
    this.baselineFlushTime.set(Date.now() / 1000);
    this.baselineFlushSuccess.set(ok ? 1 : 0);
  }
}
