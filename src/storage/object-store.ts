import { Readable } from 'node:stream';

export interface ObjectInfo {
  key: string;
  size: number;
  /** Quotes stripped. For the local store, a hash of size and modification time. */
  etag: string;
  lastModified: Date;
}

export type ObjectBody = string | Buffer | Uint8Array | Readable;

/** A key that cannot name an object (escapes the store, empty, absolute...). */
export class InvalidKeyError extends Error {
  constructor(readonly key: string, reason: string) {
    super(`Invalid object key ${JSON.stringify(key)}: ${reason}`);
  }
}

/** Storage did not answer or refused the request; the message names the key and the cause. */
export class StorageError extends Error {
  constructor(
    readonly operation: string,
    readonly key: string,
    override readonly cause: unknown,
  ) {
    super(`Storage ${operation} failed for ${JSON.stringify(key)}: ${describe(cause)}`);
  }
}

function describe(cause: unknown): string {
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return String(cause);
}

/**
 * The port every module stores objects through. Two adapters: S3 (any S3-compatible endpoint) and a
 * local directory with the same key layout. A missing key is `null`, never an exception.
 */
export abstract class ObjectStore {
  /** Human-readable location, e.g. `s3://bucket` or `file:///srv/data`. */
  abstract readonly location: string;
  abstract getStream(key: string): Promise<Readable | null>;
  /**
   * The object's bytes with the ETag, size and date of exactly the version being read (a separate
   * head() could describe another version if the object is overwritten in between).
   */
  abstract open(key: string): Promise<{ stream: Readable; info: ObjectInfo } | null>;
  abstract getText(key: string): Promise<string | null>;
  abstract put(key: string, body: ObjectBody, contentType?: string): Promise<void>;
  /** Every object under `prefix`, in key order, following pagination transparently. */
  abstract list(prefix: string): AsyncIterable<ObjectInfo>;
  abstract head(key: string): Promise<ObjectInfo | null>;
  /** Deleting a missing key is not an error. */
  abstract delete(key: string): Promise<void>;
  /** Throws a StorageError when storage does not answer; used by /health. */
  abstract ping(): Promise<void>;
}

export function assertValidKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidKeyError(String(key), 'empty');
  if (key.length > 1024) throw new InvalidKeyError(key, 'longer than 1024 characters');
  if (key.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(key)) throw new InvalidKeyError(key, 'absolute path');
  if (key.includes('\0')) throw new InvalidKeyError(key, 'contains a NUL byte');
  if (key.split(/[\\/]/).some((part) => part === '..' || part === '.')) {
    throw new InvalidKeyError(key, 'contains "." or ".." segments');
  }
}
