/**
 * Processing knobs that are not worth an environment variable. Provided by ProcessingModule with
 * these defaults; tests override the provider (`.overrideProvider(ProcessingTuning).useValue(...)`)
 * to make retries fast and switch the automatic catch-up off.
 */
export class ProcessingTuning {
  /**
   * Delay before retry n is `retryBaseDelayMs * 2^(n-1)`, at most `retryMaxDelayMs`: 1, 2, 4, 4, 4,
   * 4, 4 s with 8 attempts, so an outage of ~20 s is ridden out and, once storage is back, a batch
   * waits at most 4 s for its next try.
   */
  retryBaseDelayMs = 1000;
  retryMaxDelayMs = 4_000;
  /**
   * When several batches in a row failed for storage reasons, the queue holds and lets one batch
   * at a time through, at most this often, until one succeeds: the rest wait with their attempts
   * intact instead of all failing through their retries. Short, so storage coming back is noticed
   * within about this long (each try is one batch, so the load stays small).
   */
  outageProbeMs = 250;
  /** How often `raw/` is listed for batches without processed output (SNS gives up on a down endpoint). */
  catchUpIntervalMs = 60_000;
  /** A batch that failed for a storage reason is queued again by the catch-up scan after this long. */
  retryFailedAfterMs = 5 * 60_000;
  /** Local mode: the catch-up scan leaves a raw file modified this recently to the watcher (it may still be being copied). */
  localSettleMs = 5_000;
  /** Scan once at start-up (in the background, boot does not wait for it). */
  catchUpOnBoot = true;
  /** Batches waiting beyond this are refused (ingestion answers 503, SNS redelivers later). */
  maxQueued = 100_000;
  /**
   * Niceness of the batch worker threads (Linux; 0 leaves them at the process's priority). Above 0,
   * the scheduler favours the HTTP thread when both want the same core, so a burst of batches does
   * not slow SNS's deliveries down.
   */
  workerNiceness = 10;
  /** The batch worker module, from src/processing without extension (tests substitute a crashing one). */
  batchWorkerModule = 'batch.worker';
  /** Files at least this big log their progress every 10 %. */
  progressLogMinBytes = 8 * 1024 * 1024;
}
