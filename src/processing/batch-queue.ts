/**
 * An in-process job queue, one job per object key: bounded concurrency, no key queued or running
 * twice, retry with exponential backoff for failures that may pass, and a final `onFailure` for the
 * rest (so nothing is dropped silently). Framework-free; ProcessingService wires it to Nest.
 */

export type JobSource = 'sns' | 'local-watch' | 'catch-up' | 'manual';

export interface BatchJob {
  key: string;
  etag?: string;
  sequencer?: string;
  source: JobSource;
}

/** `ignored` is the service's answer for keys it does not take; the queue itself never says it. */
export type EnqueueResult = 'queued' | 'duplicate' | 'ignored';

export interface QueueCounters {
  /** Waiting to start, including jobs waiting out a retry delay. */
  queued: number;
  running: number;
  /** Jobs that completed (including the ones that found nothing to do). */
  processed: number;
  /** Jobs given up on (after onFailure). */
  failed: number;
  /** Attempts that failed and were scheduled again. */
  retries: number;
}

export interface BatchQueueOptions {
  concurrency: number;
  maxAttempts: number;
  /** Delay before retry n (1-based) is `retryBaseDelayMs * 2^(n-1)`, capped by `retryMaxDelayMs`. */
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  /** Jobs waiting beyond this are refused with QueueFullError. */
  maxQueued: number;
}

export interface BatchQueueHandlers {
  run(job: BatchJob, attempt: number): Promise<void>;
  /** Failures worth another attempt (storage hiccups); anything else goes to onFailure at once. */
  isRetryable(err: unknown): boolean;
  /** Called once per job that will not be attempted again, with the last error. Must not throw. */
  onFailure(job: BatchJob, err: unknown, attempts: number): Promise<void>;
  /** Called when a retry is scheduled. */
  onRetry?(job: BatchJob, err: unknown, attempt: number, delayMs: number): void;
  /** A retryable failure while the queue is closing: left for the next start's catch-up scan. */
  onAbandoned?(job: BatchJob, err: unknown, attempt: number): void;
}

/** The queue cannot take the job now (full, or shutting down): the announcer should retry later. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
}

interface Running {
  job: BatchJob;
  /** A newer version of the object announced while this one ran: run again afterwards. */
  again?: BatchJob;
}

export class BatchQueue {
  private readonly waiting = new Map<string, { job: BatchJob; attempt: number }>();
  private readonly delayed = new Map<string, { job: BatchJob; attempt: number; timer: NodeJS.Timeout }>();
  private readonly running = new Map<string, Running>();
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  private processed = 0;
  private failed = 0;
  private retries = 0;

  constructor(
    private readonly handlers: BatchQueueHandlers,
    private readonly options: BatchQueueOptions,
  ) {}

  /** Throws QueueFullError when the job cannot be taken (too many waiting, or closed). */
  enqueue(job: BatchJob): EnqueueResult {
    if (this.closed) throw new QueueFullError('the queue is shutting down');
    const key = job.key;
    const running = this.running.get(key);
    if (running) {
      if (job.etag && running.job.etag && job.etag !== running.job.etag && !running.again) {
        running.again = job;
        return 'queued';
      }
      return 'duplicate';
    }
    const waiting = this.waiting.get(key) ?? this.delayed.get(key);
    if (waiting) {
      // Same key not started yet: one run covers both; keep the newest ETag we were told about.
      if (job.etag) waiting.job = { ...waiting.job, etag: job.etag, sequencer: job.sequencer ?? waiting.job.sequencer };
      return 'duplicate';
    }
    if (this.waiting.size + this.delayed.size >= this.options.maxQueued) {
      throw new QueueFullError(`${this.options.maxQueued} batches are already waiting`);
    }
    this.waiting.set(key, { job, attempt: 1 });
    this.pump();
    return 'queued';
  }

  /** True when `key` is waiting, delayed or running. */
  has(key: string): boolean {
    return this.waiting.has(key) || this.delayed.has(key) || this.running.has(key);
  }

  get counters(): QueueCounters {
    return {
      queued: this.waiting.size + this.delayed.size,
      running: this.running.size,
      processed: this.processed,
      failed: this.failed,
      retries: this.retries,
    };
  }

  /** Resolves once nothing is waiting, delayed or running. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking and starting jobs; pending retries are dropped; running jobs finish. */
  close(): void {
    this.closed = true;
    for (const d of this.delayed.values()) clearTimeout(d.timer);
    this.delayed.clear();
    this.waiting.clear();
    this.checkIdle();
  }

  private isIdle(): boolean {
    return this.waiting.size === 0 && this.delayed.size === 0 && this.running.size === 0;
  }

  private checkIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.options.concurrency && this.waiting.size > 0) {
      const [key, entry] = this.waiting.entries().next().value as [string, { job: BatchJob; attempt: number }];
      this.waiting.delete(key);
      const slot: Running = { job: entry.job };
      this.running.set(key, slot);
      void this.execute(slot, entry.attempt);
    }
  }

  private async execute(slot: Running, attempt: number): Promise<void> {
    const job = slot.job;
    try {
      await this.handlers.run(job, attempt);
      this.processed++;
    } catch (err) {
      const retryable = attempt < this.options.maxAttempts && this.handlers.isRetryable(err);
      if (retryable && this.closed) {
        // Shutting down: no retry here, and no permanent error report either. The batch has no
        // summary, so the next start's catch-up scan takes it up again.
        this.handlers.onAbandoned?.(job, err, attempt);
      } else if (retryable) {
        this.retries++;
        const delay = Math.min(this.options.retryMaxDelayMs, this.options.retryBaseDelayMs * 2 ** (attempt - 1));
        this.handlers.onRetry?.(job, err, attempt, delay);
        // Keyed as delayed before the slot is released, so an announcement meanwhile is a duplicate.
        const timer = setTimeout(() => {
          const d = this.delayed.get(job.key);
          if (!d) return;
          this.delayed.delete(job.key);
          if (this.running.has(job.key)) return; // cannot happen: a key is in one place at a time
          this.waiting.set(job.key, { job: d.job, attempt: d.attempt });
          this.pump();
        }, delay);
        this.delayed.set(job.key, { job, attempt: attempt + 1, timer });
      } else {
        this.failed++;
        try {
          await this.handlers.onFailure(job, err, attempt);
        } catch {
          // onFailure logs its own problems; a queue must not die of them.
        }
      }
    } finally {
      this.running.delete(job.key);
      if (slot.again && !this.closed && !this.delayed.has(job.key)) {
        this.waiting.set(job.key, { job: slot.again, attempt: 1 });
      } else if (slot.again && this.delayed.has(job.key)) {
        const d = this.delayed.get(job.key)!;
        d.job = { ...d.job, etag: slot.again.etag, sequencer: slot.again.sequencer };
      }
      this.pump();
      this.checkIdle();
    }
  }
}
