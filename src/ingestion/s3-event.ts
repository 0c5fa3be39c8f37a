/** One `Records[]` entry of an S3 event notification, reduced to what ingestion uses. */
export interface S3EventRecord {
  eventName: string;
  bucket: string;
  /** Decoded: the object's real key. */
  key: string;
  /** As it arrived, URL-encoded (for logs). */
  encodedKey: string;
  etag?: string;
  sequencer?: string;
}

/** A record whose key could not be decoded. */
export interface S3UndecodableRecord {
  eventName: string;
  bucket: string;
  encodedKey: string;
  error: string;
}

export type S3Event =
  | { kind: 'test' }
  | { kind: 'records'; records: S3EventRecord[]; undecodable: S3UndecodableRecord[] }
  | { kind: 'other'; reason: string };

/**
 * Reads an SNS notification's Message as an S3 event. Never throws: a message that is not an S3
 * event is `other` (someone else may publish to the topic), S3's `s3:TestEvent` is `test`.
 */
export function parseS3Event(message: string): S3Event {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return { kind: 'other', reason: 'Message is not JSON' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { kind: 'other', reason: 'Message is not a JSON object' };
  }
  const obj = parsed as Record<string, unknown>;
  if (obj.Event === 's3:TestEvent') return { kind: 'test' };
  if (!Array.isArray(obj.Records)) return { kind: 'other', reason: 'Message has no Records array' };

  const records: S3EventRecord[] = [];
  const undecodable: S3UndecodableRecord[] = [];
  for (const entry of obj.Records as unknown[]) {
    const r = entry as { eventName?: unknown; s3?: { bucket?: { name?: unknown }; object?: Record<string, unknown> } };
    const eventName = typeof r?.eventName === 'string' ? r.eventName : '';
    const bucket = typeof r?.s3?.bucket?.name === 'string' ? r.s3.bucket.name : '';
    const object = r?.s3?.object ?? {};
    const encodedKey = typeof object.key === 'string' ? object.key : '';
    const etag = typeof object.eTag === 'string' && object.eTag ? stripQuotes(object.eTag) : undefined;
    const sequencer = typeof object.sequencer === 'string' && object.sequencer ? object.sequencer : undefined;
    try {
      records.push({ eventName, bucket, key: decodeS3Key(encodedKey), encodedKey, etag, sequencer });
    } catch (err) {
      undecodable.push({ eventName, bucket, encodedKey, error: (err as Error).message });
    }
  }
  return { kind: 'records', records, undecodable };
}

/**
 * S3 URL-encodes keys in event notifications the way HTML forms do: a space is `+`, other bytes
 * are `%XX` (UTF-8). A literal `+` in a key arrives as `%2B`, so `+` must become a space first.
 */
export function decodeS3Key(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}

function stripQuotes(etag: string): string {
  return etag.replace(/^"|"$/g, '');
}
