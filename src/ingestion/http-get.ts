import * as http from 'node:http';
import * as https from 'node:https';

export interface HttpGetOptions {
  timeoutMs: number;
  /** The body is refused past this many bytes. */
  maxBytes: number;
  /** Extra CA certificates for HTTPS (tests with a self-made certificate). */
  ca?: string[];
}

export interface HttpGetResult {
  status: number;
  body: string;
}

/** A network failure, a timeout or a body that is too large. */
export class HttpGetError extends Error {
  override readonly name = 'HttpGetError';

  /** The system error code when there is one (`ENOTFOUND`, `ECONNREFUSED`...), so callers can tell them apart. */
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * One GET with a hard deadline and a size cap. Redirects are not followed: every URL this service
 * fetches was checked against a policy first, and a redirect would take it somewhere unchecked.
 */
export function httpGet(url: string, options: HttpGetOptions): Promise<HttpGetResult> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const lib = target.protocol === 'https:' ? https : target.protocol === 'http:' ? http : null;
    if (!lib) {
      reject(new HttpGetError(`unsupported protocol ${target.protocol}`));
      return;
    }
    let settled = false;
    let deadline: NodeJS.Timeout | undefined;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      req.destroy();
      reject(err instanceof HttpGetError ? err : new HttpGetError(err.message, (err as NodeJS.ErrnoException).code));
    };
    const req = lib.get(
      target,
      { timeout: options.timeoutMs, ...(options.ca && target.protocol === 'https:' ? { ca: options.ca } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxBytes) fail(new HttpGetError(`response larger than ${options.maxBytes} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(deadline);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', fail);
      },
    );
    // `timeout` above is per socket inactivity; this bounds the whole exchange.
    deadline = setTimeout(() => fail(new HttpGetError(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    deadline.unref();
    req.on('timeout', () => fail(new HttpGetError(`no answer within ${options.timeoutMs} ms`)));
    req.on('error', fail);
  });
}
