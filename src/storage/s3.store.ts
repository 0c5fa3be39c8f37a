import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { assertValidKey, ObjectBody, ObjectInfo, ObjectStore, StorageError } from './object-store';

export interface S3StoreOptions {
  bucket: string;
  region: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  /** Total attempts per request, handled by the SDK's standard retry strategy (backoff + jitter). */
  maxAttempts?: number;
  /** A connection not made within this time is abandoned (and retried). Default 5 s. */
  connectTimeoutMs?: number;
  /**
   * A request whose socket stays silent this long fails (and is retried). Default 60 s. The SDK's
   * own default is no limit: a stalled connection would hold its batch, and its slot in the queue,
   * until the service restarts.
   */
  idleTimeoutMs?: number;
  /**
   * The same for reading an object's body (`open`, `getStream`, `getText`). Default 10 min. Longer,
   * because the silence may be ours: a raw file is read only as fast as its scored output is
   * uploaded, and while two 8 MB parts are in flight nothing is read (on a slow link that can
   * take minutes).
   */
  bodyIdleTimeoutMs?: number;
}

const MISSING = new Set(['NoSuchKey', 'NotFound', 'NoSuchBucket']);

/** The only module that imports the AWS SDK: translates its shapes and errors into ours. */
export class S3Store extends ObjectStore {
  readonly location: string;
  private readonly client: S3Client;
  /** For GetObject: the same but for the idle timeout (`bodyIdleTimeoutMs`). */
  private readonly bodyClient: S3Client;
  private readonly bucket: string;

  constructor(options: S3StoreOptions) {
    super();
    this.bucket = options.bucket;
    this.location = `s3://${options.bucket}`;
    const client = (idleMs: number) =>
      new S3Client({
        region: options.region,
        endpoint: options.endpoint,
        forcePathStyle: options.forcePathStyle,
        maxAttempts: options.maxAttempts ?? 4,
        retryMode: 'standard',
        requestHandler: { connectionTimeout: options.connectTimeoutMs ?? 5_000, socketTimeout: idleMs },
        // Checksums only when an operation requires them: S3-compatible servers differ in support
        // for the newer default (CRC32 trailers in aws-chunked bodies), and S3 itself needs none here.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
    this.client = client(options.idleTimeoutMs ?? 60_000);
    this.bodyClient = client(options.bodyIdleTimeoutMs ?? 10 * 60_000);
  }

  async getStream(key: string): Promise<Readable | null> {
    return (await this.open(key))?.stream ?? null;
  }

  async open(key: string): Promise<{ stream: Readable; info: ObjectInfo } | null> {
    assertValidKey(key);
    try {
      const out = await this.bodyClient.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        stream: out.Body as Readable,
        info: { key, size: out.ContentLength ?? 0, etag: stripQuotes(out.ETag), lastModified: out.LastModified ?? new Date(0) },
      };
    } catch (err) {
      if (isMissing(err)) return null;
      throw new StorageError('get', key, err);
    }
  }

  async getText(key: string): Promise<string | null> {
    const stream = await this.getStream(key);
    if (!stream) return null;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
      return Buffer.concat(chunks).toString('utf8');
    } catch (err) {
      throw new StorageError('get', key, err);
    }
  }

  async put(key: string, body: ObjectBody, contentType = 'application/octet-stream'): Promise<void> {
    assertValidKey(key);
    try {
      if (body instanceof Readable) {
        // Streams of unknown length go through multipart upload, bounded to a few 8 MB parts in memory.
        const upload = new Upload({
          client: this.client,
          params: { Bucket: this.bucket, Key: key, Body: body, ContentType: contentType },
          partSize: 8 * 1024 * 1024,
          queueSize: 2,
        });
        await upload.done();
      } else {
        await this.client.send(
          new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }),
        );
      }
    } catch (err) {
      throw new StorageError('put', key, err);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
        );
      } catch (err) {
        throw new StorageError('list', prefix, err);
      }
      for (const obj of page.Contents ?? []) {
        if (!obj.Key) continue;
        yield {
          key: obj.Key,
          size: obj.Size ?? 0,
          etag: stripQuotes(obj.ETag),
          lastModified: obj.LastModified ?? new Date(0),
        };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async head(key: string): Promise<ObjectInfo | null> {
    assertValidKey(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        key,
        size: out.ContentLength ?? 0,
        etag: stripQuotes(out.ETag),
        lastModified: out.LastModified ?? new Date(0),
      };
    } catch (err) {
      if (isMissing(err)) return null;
      throw new StorageError('head', key, err);
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (isMissing(err)) return;
      throw new StorageError('delete', key, err);
    }
  }

  async ping(): Promise<void> {
    try {
      // The instance role may list only the raw/, processed/ and state/ prefixes, so no HeadBucket.
      await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: 'state/', MaxKeys: 1 }));
    } catch (err) {
      throw new StorageError('ping', this.bucket, err);
    }
  }

  destroy(): void {
    this.client.destroy();
    this.bodyClient.destroy();
  }
}

function isMissing(err: unknown): boolean {
  if (err instanceof S3ServiceException) {
    return MISSING.has(err.name) || err.$metadata?.httpStatusCode === 404;
  }
  return false;
}

function stripQuotes(etag?: string): string {
  return (etag ?? '').replace(/^"|"$/g, '');
}
