/**
 * A set that forgets: each entry lives `ttlMs` from when it was added, and beyond `maxEntries` the
 * oldest entries go first. Memory stays bounded however many messages arrive; duplicates that SNS
 * or S3 send within the window are recognised.
 */
export class RecentSet {
  // Insertion order is expiry order (one TTL for all), so expired entries are always at the front.
  private readonly entries = new Map<string, number>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  has(value: string): boolean {
    const expiresAt = this.entries.get(value);
    if (expiresAt === undefined) return false;
    if (expiresAt <= this.now()) {
      this.entries.delete(value);
      return false;
    }
    return true;
  }

  /** Adds `value`; returns false when it was already there (and still fresh). */
  add(value: string): boolean {
    if (this.has(value)) return false;
    const now = this.now();
    this.entries.set(value, now + this.ttlMs);
    this.evict(now);
    return true;
  }

  delete(value: string): void {
    this.entries.delete(value);
  }

  get size(): number {
    return this.entries.size;
  }

  private evict(now: number): void {
    for (const [value, expiresAt] of this.entries) {
      if (this.entries.size <= this.maxEntries && expiresAt > now) break;
      this.entries.delete(value);
    }
  }
}
