import { BaselineFormatError } from './baseline.errors';

/**
 * Default bound of the ledger. Why 20,000 is enough: the ledger only has to outlive the window in
 * which the same object can come back — an SNS redelivery (minutes to hours), a duplicate S3 event,
 * or a restart reprocessing what the last flush had not yet saved (one flush interval). At the
 * producer's one batch a minute 20,000 objects are ~14 days; at 10 batches a second ~33 minutes,
 * still far beyond a flush interval. A file whose outputs exist is not re-enqueued by the catch-up
 * scan, so nothing older needs remembering. Cost: ~80 bytes per entry in baseline.json (~1.6 MB
 * when full), which is written locally after every batch, so the bound also bounds that write.
 */
export const DEFAULT_LEDGER_CAPACITY = 20_000;

export type LedgerJson = { capacity: number; entries: Array<[key: string, etag: string]> };

/** The objects (key + ETag) already folded into the baseline, oldest evicted first beyond `capacity`. */
export class AbsorbedLedger {
  /** A Set keeps insertion order, so its first element is always the oldest. */
  private readonly ids = new Set<string>();
  /**
   * Each entry's JSON text, in the same order (oldest at `head`): the state is saved after every
   * batch, and stringifying 20,000 entries each time cost ~6 ms of the HTTP thread per save.
   */
  private texts: string[] = [];
  private head = 0;
  private cachedText?: string;

  constructor(readonly capacity = DEFAULT_LEDGER_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ledger capacity must be an integer >= 1, got ${capacity}`);
  }

  has(key: string, etag: string): boolean {
    return this.ids.has(id(key, etag));
  }

  /** Records the object; returns false when it was already there. */
  add(key: string, etag: string): boolean {
    const k = id(key, etag);
    if (this.ids.has(k)) return false;
    this.ids.add(k);
    this.texts.push(JSON.stringify([key, etag]));
    while (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next().value as string;
      this.ids.delete(oldest);
      this.head++;
    }
    if (this.head > this.capacity) {
      this.texts = this.texts.slice(this.head);
      this.head = 0;
    }
    this.cachedText = undefined;
    return true;
  }

  /** `JSON.stringify(this.toJSON().entries)`, kept between changes. */
  entriesText(): string {
    this.cachedText ??= `[${(this.head === 0 ? this.texts : this.texts.slice(this.head)).join(',')}]`;
    return this.cachedText;
  }

  get size(): number {
    return this.ids.size;
  }

  toJSON(): LedgerJson {
    const entries: Array<[string, string]> = [];
    for (const k of this.ids) {
      const cut = k.indexOf('\0');
      entries.push([k.slice(0, cut), k.slice(cut + 1)]);
    }
    return { capacity: this.capacity, entries };
  }

  /**
   * `capacity` is the configured bound when given (a stored ledger larger than it keeps its newest
   * entries), else the stored one.
   */
  static fromJSON(json: unknown, where: string, capacity?: number): AbsorbedLedger {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw new BaselineFormatError(`${where} must be an object {capacity, entries}`);
    }
    const o = json as Record<string, unknown>;
    const stored = o.capacity;
    if (typeof stored !== 'number' || !Number.isInteger(stored) || stored < 1) {
      throw new BaselineFormatError(`${where}.capacity must be an integer >= 1, got ${JSON.stringify(stored)}`);
    }
    if (!Array.isArray(o.entries)) throw new BaselineFormatError(`${where}.entries must be an array of [key, etag]`);
    const ledger = new AbsorbedLedger(capacity ?? stored);
    o.entries.forEach((e: unknown, i: number) => {
      if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || typeof e[1] !== 'string' || e[0] === '' || e[0].includes('\0')) {
        throw new BaselineFormatError(`${where}.entries[${i}] must be [key, etag] (two strings, key non-empty), got ${JSON.stringify(e)}`);
      }
      ledger.add(e[0], e[1]);
    });
    return ledger;
  }
}

/** Object keys cannot contain NUL (see assertValidKey), so the pair is unambiguous. */
function id(key: string, etag: string): string {
  return `${key}\0${etag}`;
}
