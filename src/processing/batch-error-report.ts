import { ObjectStore, StorageError } from '../storage/object-store';
import { BadInputError } from './bad-input.error';
import { BatchKeys } from './batch-keys';

/** `processed/<name>_error.json`: why a batch has no scored output. */
export interface BatchErrorReport {
  source_key: string;
  error: string;
  /** 1-based line of the raw file the problem is on, null when it is not about one line. */
  line: number | null;
  /** `bad-input` (retrying cannot help) or `processing` (gave up after `attempts`). */
  kind: 'bad-input' | 'processing';
  /** True only when storage failed: the catch-up scan tries such a batch again later. */
  retryable: boolean;
  attempts: number;
  etag: string | null;
  failed_at: string;
}

export function errorReport(keys: BatchKeys, err: unknown, attempts: number, etag?: string): BatchErrorReport {
  const bad = err instanceof BadInputError;
  return {
    source_key: keys.source,
    error: bad ? err.reason : describe(err),
    line: bad ? (err.line ?? null) : null,
    kind: bad ? 'bad-input' : 'processing',
    retryable: err instanceof StorageError,
    attempts,
    etag: etag ?? null,
    failed_at: new Date().toISOString(),
  };
}

export async function writeErrorReport(store: ObjectStore, keys: BatchKeys, report: BatchErrorReport): Promise<void> {
  await store.put(keys.error, JSON.stringify(report, null, 2) + '\n', 'application/json');
}

function describe(err: unknown): string {
  if (err instanceof StorageError) return err.message;
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
