import { BatchSink, EnqueueOutcome, IngestJob } from '../../src/ingestion/batch-sink';

/** The boundary of the ingestion module in tests: records every job it is handed. */
export class RecordingSink extends BatchSink {
  readonly jobs: IngestJob[] = [];
  /** While set, enqueue throws it (a full or closed queue). */
  failWith?: Error;

  enqueue(job: IngestJob): EnqueueOutcome {
    if (this.failWith) throw this.failWith;
    this.jobs.push(job);
    return 'queued';
  }

  keys(): string[] {
    return this.jobs.map((j) => j.key);
  }

  clear(): void {
    this.jobs.length = 0;
    this.failWith = undefined;
  }
}
