import { KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { httpGet, HttpGetError, HttpGetResult } from './http-get';
import { IngestionUnavailableError, SnsVerificationError } from './ingestion.errors';

export interface SigningCertCacheOptions {
  /** Certificates kept; the least recently used goes first. */
  maxEntries?: number;
  /** How long a fetched certificate is trusted without fetching it again (capped by its notAfter). */
  ttlMs?: number;
  timeoutMs?: number;
  /**
   * How long a URL whose certificate was refused (4xx, not a certificate, expired, host does not
   * exist) is refused again without a fetch.
   */
  failureTtlMs?: number;
  /**
   * The same for transient failures (timeout, 5xx, connection refused). Short: SNS retries a
   * delivery every 20 s by default, and a retry after an outage must reach the host again.
   */
  transientFailureTtlMs?: number;
  /** Failed URLs (and hosts) remembered; the oldest go first. */
  maxFailures?: number;
  /** Distinct certificates fetched at once; a new URL beyond that is answered "unavailable" (503). */
  maxConcurrentFetches?: number;
  /**
   * Of those, how many one source address may have started: forged messages from one place cannot
   * take every slot and keep genuine deliveries (from SNS's own addresses) from being verified.
   */
  maxFetchesPerSource?: number;
  /** Extra CA certificates for HTTPS fetches (tests). */
  ca?: string[];
  /**
   * A file that keeps the fetched certificates across restarts (PEM by URL), so that after a
   * restart genuine deliveries need no fetch, whatever else is being fetched then.
   */
  persistPath?: string;
  now?: () => number;
  /** Replaces the HTTP GET (tests counting fetches). */
  get?: (url: string) => Promise<HttpGetResult>;
}

interface Entry {
  key: KeyObject;
  expiresAt: number;
  pem: string;
}

interface Failure {
  transient: boolean;
  message: string;
  expiresAt: number;
}

const MAX_CERT_BYTES = 64 * 1024;

/**
 * Signing certificates by URL, as public keys ready for `crypto.verify`. Bounded (LRU), with a TTL,
 * and one fetch at a time per URL: a burst of messages signed with a new certificate fetches it once.
 * The URL must already have passed SnsUrlPolicy; this class fetches whatever it is given.
 *
 * Anyone can POST a message naming a certificate URL, before any signature is checked, so fetching
 * is bounded too: failures are remembered per URL (and a host that does not exist, per host), and
 * only a few distinct certificates are fetched at once, one per source address.
 */
export class SigningCertCache {
  private readonly entries = new Map<string, Entry>();
  private readonly failures = new Map<string, Failure>();
  private readonly inFlight = new Map<string, Promise<KeyObject>>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly failureTtlMs: number;
  private readonly transientFailureTtlMs: number;
  private readonly maxFailures: number;
  private readonly maxConcurrentFetches: number;
  private readonly maxFetchesPerSource: number;
  private readonly fetchesBySource = new Map<string, number>();
  private readonly now: () => number;
  private readonly get: (url: string) => Promise<HttpGetResult>;
  private fetches = 0;
  private readonly persistPath: string | undefined;
  /** The last write of the persisted certificates (they are written one after another). */
  private saving: Promise<void> = Promise.resolve();

  constructor(options: SigningCertCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 64;
    this.ttlMs = options.ttlMs ?? 24 * 3600 * 1000;
    this.failureTtlMs = options.failureTtlMs ?? 5 * 60 * 1000;
    this.transientFailureTtlMs = options.transientFailureTtlMs ?? 10 * 1000;
    this.maxFailures = options.maxFailures ?? 1024;
    this.maxConcurrentFetches = options.maxConcurrentFetches ?? 4;
    this.maxFetchesPerSource = options.maxFetchesPerSource ?? 1;
    this.now = options.now ?? Date.now;
    const timeoutMs = options.timeoutMs ?? 5000;
    this.get = options.get ?? ((url) => httpGet(url, { timeoutMs, maxBytes: MAX_CERT_BYTES, ca: options.ca }));
    this.persistPath = options.persistPath;
    if (this.persistPath) this.load(this.persistPath);
  }

  /** Certificates kept by an earlier run, each checked again; a missing or broken file is no cache. */
  private load(file: string): void {
    let saved: unknown;
    try {
      saved = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      return;
    }
    if (!Array.isArray(saved)) return;
    for (const item of saved.slice(0, this.maxEntries)) {
      const { url, pem } = (item ?? {}) as { url?: unknown; pem?: unknown };
      if (typeof url !== 'string' || typeof pem !== 'string') continue;
      try {
        this.accept(url, pem);
      } catch {
        // Expired or not a certificate any more: fetched again when needed.
      }
    }
  }

  /** Written after each new certificate, one write at a time; a failure only costs a fetch after a restart. */
  private save(): void {
    const file = this.persistPath;
    if (!file) return;
    const text = JSON.stringify([...this.entries].map(([url, e]) => ({ url, pem: e.pem })));
    this.saving = this.saving
      .then(() => writeFile(`${file}.tmp`, text, { mode: 0o600 }))
      .then(() => rename(`${file}.tmp`, file))
      .catch(() => undefined);
  }

  /** Resolves once the certificates fetched so far are on disk (tests, shutdown). */
  saved(): Promise<void> {
    return this.saving;
  }

  /** How many times a certificate was fetched over the network. */
  get fetchCount(): number {
    return this.fetches;
  }

  /**
   * Returns the certificate's public key, synchronously when cached (the hot path). Failures are
   * always a rejected promise: SnsVerificationError (403) or IngestionUnavailableError (503).
   */
  publicKey(url: string, source?: string): KeyObject | Promise<KeyObject> {
    const hit = this.entries.get(url);
    if (hit && hit.expiresAt > this.now()) {
      // Re-insert to mark as most recently used.
      this.entries.delete(url);
      this.entries.set(url, hit);
      return hit.key;
    }
    if (hit) this.entries.delete(url);
    const pending = this.inFlight.get(url);
    if (pending) return pending;

    const failed = this.recentFailure(url) ?? this.recentFailure(hostKey(url));
    if (failed) {
      const message = `${failed.message} (remembered; not fetched again yet)`;
      return Promise.reject(failed.transient ? new IngestionUnavailableError(message) : new SnsVerificationError(message));
    }
    if (this.inFlight.size >= this.maxConcurrentFetches) {
      return Promise.reject(
        new IngestionUnavailableError(`too many signing certificates being fetched at once (${this.inFlight.size}); not fetching ${url} now`),
      );
    }
    // Sources are counted when known (the HTTP endpoint always knows its peer's address).
    const started = source === undefined ? 0 : (this.fetchesBySource.get(source) ?? 0);
    if (source !== undefined && started >= this.maxFetchesPerSource) {
      return Promise.reject(new IngestionUnavailableError(`a signing certificate fetch for ${source} is already in flight; not fetching ${url} now`));
    }
    if (source !== undefined) this.fetchesBySource.set(source, started + 1);
    const fetching = this.fetch(url)
      .catch((err: unknown) => {
        this.remember(url, err);
        throw err;
      })
      .finally(() => {
        this.inFlight.delete(url);
        if (source === undefined) return;
        const left = (this.fetchesBySource.get(source) ?? 1) - 1;
        if (left > 0) this.fetchesBySource.set(source, left);
        else this.fetchesBySource.delete(source);
      });
    this.inFlight.set(url, fetching);
    return fetching;
  }

  private async fetch(url: string): Promise<KeyObject> {
    this.fetches++;
    let res: HttpGetResult;
    try {
      res = await this.get(url);
    } catch (err) {
      const message = `signing certificate ${url} could not be fetched: ${(err as Error).message}`;
      // The resolver says the name does not exist: not a host SNS could have signed from, and
      // retrying will not change that. Anything else (EAI_AGAIN included) may pass.
      if (err instanceof HttpGetError && err.code === 'ENOTFOUND') throw new HostNotFoundError(message);
      throw new IngestionUnavailableError(message);
    }
    // 429 asks to come back later; every other 4xx means there is no such certificate.
    if (res.status >= 500 || res.status === 429) {
      throw new IngestionUnavailableError(`signing certificate ${url} answered ${res.status}`);
    }
    if (res.status !== 200) throw new SnsVerificationError(`signing certificate ${url} answered ${res.status}`);

    const key = this.accept(url, res.body);
    this.save();
    return key;
  }

  /** Checks a certificate (X.509, valid now, RSA) and caches its key. Throws SnsVerificationError. */
  private accept(url: string, pem: string): KeyObject {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(pem);
    } catch {
      throw new SnsVerificationError(`signing certificate ${url} is not an X.509 certificate`);
    }
    const now = this.now();
    const notBefore = Date.parse(cert.validFrom);
    const notAfter = Date.parse(cert.validTo);
    if (!(notBefore <= now && now <= notAfter)) {
      throw new SnsVerificationError(`signing certificate ${url} is not valid now (${cert.validFrom} - ${cert.validTo})`);
    }
    const key = cert.publicKey;
    if (key.asymmetricKeyType !== 'rsa') {
      throw new SnsVerificationError(`signing certificate ${url} does not hold an RSA key`);
    }
    this.entries.set(url, { key, expiresAt: Math.min(now + this.ttlMs, notAfter), pem });
    while (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    return key;
  }

  private recentFailure(key: string | undefined): Failure | undefined {
    if (key === undefined) return undefined;
    const failure = this.failures.get(key);
    if (failure && failure.expiresAt <= this.now()) {
      this.failures.delete(key);
      return undefined;
    }
    return failure;
  }

  private remember(url: string, err: unknown): void {
    const transient = !(err instanceof SnsVerificationError);
    const failure: Failure = {
      transient,
      message: err instanceof Error ? err.message : String(err),
      expiresAt: this.now() + (transient ? this.transientFailureTtlMs : this.failureTtlMs),
    };
    this.addFailure(url, failure);
    const host = hostKey(url);
    if (err instanceof HostNotFoundError && host) this.addFailure(host, failure);
  }

  private addFailure(key: string, failure: Failure): void {
    this.failures.delete(key);
    this.failures.set(key, failure);
    while (this.failures.size > this.maxFailures) {
      this.failures.delete(this.failures.keys().next().value as string);
    }
  }
}

/** A certificate host whose name does not resolve (→ 403, remembered for the whole host). */
class HostNotFoundError extends SnsVerificationError {}

/** Failures of a whole host are kept under this key; no URL can collide with it (URLs have a scheme). */
function hostKey(url: string): string | undefined {
  try {
    return `host ${new URL(url).host}`;
  } catch {
    return undefined;
  }
}
