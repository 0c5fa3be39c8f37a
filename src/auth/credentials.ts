/**
 * The credentials the service accepts: API tokens, configured only as their SHA-256 digests (the
 * configuration never holds a token itself), and the sessions the login page opens with one. Pure
 * classes, no framework.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export class TokenSet {
  private readonly digests: Buffer[];

  constructor(hexDigests: readonly string[]) {
    this.digests = hexDigests.map((h) => Buffer.from(h.toLowerCase(), 'hex'));
  }

  get size(): number {
    return this.digests.length;
  }

  /** Compares against every digest in constant time (no early exit that a timing could reveal). */
  accepts(token: string): boolean {
    if (token.length === 0 || token.length > 512) return false;
    const d = createHash('sha256').update(token, 'utf8').digest();
    let ok = false;
    for (const known of this.digests) ok = timingSafeEqual(d, known) || ok;
    return ok;
  }
}

/** Open sessions, by an unguessable id; bounded, each expiring. */
export class SessionStore {
  private readonly sessions = new Map<string, number>();

  constructor(
    readonly ttlMs: number,
    private readonly max = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  open(): { id: string; expires: number } {
    if (this.sessions.size >= this.max) this.sessions.delete(this.sessions.keys().next().value!);
    const id = randomBytes(32).toString('base64url');
    const expires = this.now() + this.ttlMs;
    this.sessions.set(id, expires);
    return { id, expires };
  }

  valid(id: string | undefined): boolean {
    if (!id) return false;
    const expires = this.sessions.get(id);
    if (expires === undefined) return false;
    if (expires <= this.now()) {
      this.sessions.delete(id);
      return false;
    }
    return true;
  }

  close(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }
}

/**
 * Failed attempts per source address: more than `max` within `windowMs` and the address is refused
 * until the window has passed. Bounded: the oldest addresses are forgotten first.
 */
export class AttemptLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly max = 10,
    private readonly windowMs = 60_000,
    private readonly addresses = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds to wait before trying again, 0 when the address may try now. */
  retryAfter(address: string): number {
    const recent = this.recent(address);
    if (recent.length < this.max) return 0;
    return Math.max(1, Math.ceil((recent[0] + this.windowMs - this.now()) / 1000));
  }

  fail(address: string): void {
    const recent = this.recent(address);
    recent.push(this.now());
    this.failures.delete(address);
    if (this.failures.size >= this.addresses) this.failures.delete(this.failures.keys().next().value!);
    this.failures.set(address, recent.slice(-this.max));
  }

  private recent(address: string): number[] {
    const since = this.now() - this.windowMs;
    return (this.failures.get(address) ?? []).filter((t) => t > since);
  }
}
