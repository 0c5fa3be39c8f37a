/** Where a batch announcement came from. */
export type IngestSource = 'sns' | 'local-watch' | 'catch-up';

/** One object to process: a key under the raw prefix, with what identifies its version. */
export interface IngestJob {
  key: string;
  /** Quotes stripped. */
  etag?: string;
  /** S3's per-key event order (hex); only SNS notifications carry it. */
  sequencer?: string;
  source: IngestSource;
}

/**
 * What the sink did with a job: `queued` for work, `duplicate` when that key is already queued or
 * running, `ignored` when it needs no work (e.g. already processed).
 */
export type EnqueueOutcome = 'queued' | 'duplicate' | 'ignored';

/**
 * The port ingestion hands objects to (the processing queue implements it). `enqueue` must be
 * synchronous and cheap: it runs inside the HTTP request that SNS is waiting on. It throws when it
 * cannot take the job (queue full, shutting down); ingestion then answers 503 so SNS redelivers.
 */
export abstract class BatchSink {
  abstract enqueue(job: IngestJob): EnqueueOutcome;
}
