import { KeyObject, X509Certificate } from 'node:crypto';
import { httpGet, HttpGetResult } from './http-get';
import { IngestionUnavailableError, SnsVerificationError } from './ingestion.errors';

export interface SigningCertCacheOptions {
  /** Certificates kept; the least recently used goes first. */
  maxEntries?: number;
  /** How long a fetched certificate is trusted without fetching it again (capped by its notAfter). */
  ttlMs?: number;
  timeoutMs?: number;
  /** Extra CA certificates for HTTPS fetches (tests). */
  ca?: string[];
  now?: () => number;
  /** Replaces the HTTP GET (tests counting fetches). */
  get?: (url: string) => Promise<HttpGetResult>;
}

interface Entry {
  key: KeyObject;
  expiresAt: number;
}

const MAX_CERT_BYTES = 64 * 1024;

/**
 * Signing certificates by URL, as public keys ready for `crypto.verify`. Bounded (LRU), with a TTL,
 * and one fetch at a time per URL: a burst of messages signed with a new certificate fetches it once.
 * The URL must already have passed SnsUrlPolicy; this class fetches whatever it is given.
 */
export class SigningCertCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<KeyObject>>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly get: (url: string) => Promise<HttpGetResult>;
  private fetches = 0;

  constructor(options: SigningCertCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 64;
    this.ttlMs = options.ttlMs ?? 24 * 3600 * 1000;
    this.now = options.now ?? Date.now;
    const timeoutMs = options.timeoutMs ?? 5000;
    this.get = options.get ?? ((url) => httpGet(url, { timeoutMs, maxBytes: MAX_CERT_BYTES, ca: options.ca }));
  }

  /** How many times a certificate was fetched over the network. */
  get fetchCount(): number {
    return this.fetches;
  }

  /** Returns the certificate's public key, synchronously when cached (the hot path). */
  publicKey(url: string): KeyObject | Promise<KeyObject> {
    const hit = this.entries.get(url);
    if (hit && hit.expiresAt > this.now()) {
      // Re-insert to mark as most recently used.
      this.entries.delete(url);
      this.entries.set(url, hit);
      return hit.key;
    }
    if (hit) this.entries.delete(url);
    let pending = this.inFlight.get(url);
    if (!pending) {
      pending = this.fetch(url).finally(() => this.inFlight.delete(url));
      this.inFlight.set(url, pending);
    }
    return pending;
  }

  private async fetch(url: string): Promise<KeyObject> {
    this.fetches++;
    let res: HttpGetResult;
    try {
      res = await this.get(url);
    } catch (err) {
      throw new IngestionUnavailableError(`signing certificate ${url} could not be fetched: ${(err as Error).message}`);
    }
    if (res.status >= 500 || res.status === 429) {
      throw new IngestionUnavailableError(`signing certificate ${url} answered ${res.status}`);
    }
    if (res.status !== 200) throw new SnsVerificationError(`signing certificate ${url} answered ${res.status}`);

    let cert: X509Certificate;
    try {
      cert = new X509Certificate(res.body);
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
    this.entries.set(url, { key, expiresAt: Math.min(now + this.ttlMs, notAfter) });
    while (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    return key;
  }
}
