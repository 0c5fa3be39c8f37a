/**
 * Builds output bytes in a preallocated Buffer and hands them out in chunks of about `chunkSize`.
 * Scored files are mostly numbers with 4 decimals; formatting them through strings (`String(x)`
 * ~85 ns, `toFixed(4)` ~50 ns) costs more than scoring, so they are written digit by digit from a
 * table instead (~15-20 ns).
 */

const FRACTION_DIGITS = (() => {
  const table = Buffer.allocUnsafe(10000 * 4);
  for (let i = 0; i < 10000; i++) table.write(String(i).padStart(4, '0'), i * 4, 'latin1');
  return table;
})();

/** Beyond this, `Math.round(|x| * 1e4)` is no longer an exact integer. */
const MAX_FAST = 9e15 / 1e4;

const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;

export class ByteWriter {
  private buf: Buffer;
  private pos = 0;

  /** `chunkSize` is a flush hint: `full` turns true past it; a single write may exceed it. */
  constructor(private readonly chunkSize = 1 << 20) {
    this.buf = Buffer.allocUnsafe(chunkSize + 4096);
  }

  get length(): number {
    return this.pos;
  }

  get full(): boolean {
    return this.pos >= this.chunkSize;
  }

  /** The bytes written so far (a fresh Buffer the caller owns); the writer starts over. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(this.chunkSize + 4096);
    this.pos = 0;
    return out;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  bytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.ensure(n);
    this.buf.set(src.subarray(start, end), this.pos);
    this.pos += n;
  }

  /** Any JavaScript string, as UTF-8. */
  text(s: string): void {
    this.ensure(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** An integer in the safe range. */
  int(n: number): void {
    this.ensure(24);
    if (n < 0) {
      this.buf[this.pos++] = MINUS;
      n = -n;
    }
    this.digits(n);
  }

  /**
   * `x` rounded to 4 decimals (half away from zero), e.g. `-1.2346`, `0.0000`. Writes nothing for
   * NaN or ±Infinity (an empty CSV cell): those never reach a file. Never writes `-0.0000`.
   */
  fixed4(x: number): void {
    if (!Number.isFinite(x)) return;
    const negative = x < 0;
    const abs = negative ? -x : x;
    if (abs >= MAX_FAST) {
      this.text(x.toFixed(4));
      return;
    }
    const scaled = Math.round(abs * 10000);
    this.ensure(32);
    if (negative && scaled !== 0) this.buf[this.pos++] = MINUS;
    const whole = Math.floor(scaled / 10000);
    this.digits(whole);
    this.buf[this.pos++] = DOT;
    const f = (scaled - whole * 10000) * 4;
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = FRACTION_DIGITS[f];
    buf[p++] = FRACTION_DIGITS[f + 1];
    buf[p++] = FRACTION_DIGITS[f + 2];
    buf[p++] = FRACTION_DIGITS[f + 3];
    this.pos = p;
  }

  private digits(n: number): void {
    if (n < 10) {
      this.buf[this.pos++] = ZERO + n;
      return;
    }
    let len = 1;
    for (let t = n; t >= 10; t = Math.floor(t / 10)) len++;
    let p = this.pos + len - 1;
    while (n >= 10) {
      const q = Math.floor(n / 10);
      this.buf[p--] = ZERO + (n - q * 10);
      n = q;
    }
    this.buf[p] = ZERO + n;
    this.pos += len;
  }
}
