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
  /**
   * After this many jobs in a row failed with an outage error (`isOutage`; no other outcome in
   * between; distinct jobs, so one object failing again and again does not count), the queue
   * holds: one job at a time, at most one every `outageProbeMs`, until a job gets through.
   * Default 3; 0 never holds.
   */
  outageThreshold?: number;
  /** While holding, jobs start at most this often (default: `retryBaseDelayMs`). */
  outageProbeMs?: number;
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
  /** Failures that say the storage itself is down (not this one batch); default: none. */
  isOutage?(err: unknown): boolean;
  /** Told when the queue starts holding (true) and when a job got through again (false). */
  onHold?(holding: boolean, err?: unknown): void;
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
  /** Jobs whose latest attempt failed with an outage error, since any other outcome. */
  private readonly outageStreak = new Set<string>();
  private holding = false;
  /** While holding: when the next probe may start, and the timer that starts it. */
  private nextProbeAt = 0;
  private probeTimer: NodeJS.Timeout | undefined;

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
    clearTimeout(this.probeTimer);
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

  /**
   * Starts waiting jobs up to the concurrency. While holding (storage down), one job at a time
   * probes it instead, spaced by the base retry delay: the jobs not tried yet keep waiting with
   * their attempts intact (instead of all failing, backing off, and waiting out their delays once
   * storage is back), and a storage that struggles is not hammered.
   */
  private pump(): void {
    while (!this.closed && this.running.size < this.options.concurrency && this.waiting.size > 0) {
      if (this.holding) {
        if (this.running.size > 0) return;
        const wait = this.nextProbeAt - Date.now();
        if (wait > 0) {
          this.probeTimer ??= setTimeout(() => {
            this.probeTimer = undefined;
            this.pump();
          }, wait);
          return;
        }
        this.nextProbeAt = Date.now() + this.probeInterval();
      }
      const [key, entry] = this.waiting.entries().next().value as [string, { job: BatchJob; attempt: number }];
      this.waiting.delete(key);
      const slot: Running = { job: entry.job };
      this.running.set(key, slot);
      void this.execute(slot, entry.attempt);
    }
  }

  /**
   * Counts the jobs that failed with an outage error in a row (distinct jobs: one object failing
   * again and again is that object's problem); starts or ends the hold. `err` undefined: success.
   */
  private noteOutcome(key: string, err: unknown): void {
    const outage = err !== undefined && (this.handlers.isOutage?.(err) ?? false);
    const threshold = this.options.outageThreshold ?? 3;
    if (!outage) {
      this.outageStreak.clear();
      if (this.holding) {
        this.holding = false;
        clearTimeout(this.probeTimer);
        this.probeTimer = undefined;
        this.handlers.onHold?.(false);
      }
      return;
    }
    this.outageStreak.add(key);
    if (!this.holding && threshold > 0 && this.outageStreak.size >= threshold) {
      this.holding = true;
      this.nextProbeAt = Date.now() + this.probeInterval();
      this.handlers.onHold?.(true, err);
    }
  }

  private probeInterval(): number {
    return this.options.outageProbeMs ?? this.options.retryBaseDelayMs;
  }

  private async execute(slot: Running, attempt: number): Promise<void> {
    const job = slot.job;
    try {
      await this.handlers.run(job, attempt);
      this.processed++;
      this.noteOutcome(job.key, undefined);
    } catch (err) {
      this.noteOutcome(job.key, err);
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
