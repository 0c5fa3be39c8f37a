/**
 * Parses decimal numbers straight from CSV bytes, without making a string per cell.
 *
 * Accepted: optional spaces, an optional sign, digits with an optional fraction, an optional
 * exponent (`-12`, `3.25`, `.5`, `1e-3`, ` 7 `). Anything else (empty, `NA`, `nan`, `0x10`,
 * `Infinity`, text) and anything beyond ±MAX_MAGNITUDE is NaN, which the pipeline treats as a
 * missing value: the moments sum fourth powers of deviations, and a cell of 1e200 would overflow
 * them and fail its whole batch. Results are exactly what `Number(text)` gives: the fast path is Clinger's (at most
 * 15 significant digits and a power of ten up to 1e22 are both exact in a double, so one multiply or
 * divide rounds correctly); everything else goes through `Number`.
 */

/** Magnitudes beyond this are not values (1e60^4, summed over a billion rows, is still finite). */
export const MAX_MAGNITUDE = 1e60;

const POW10: number[] = [];
for (let i = 0; i <= 22; i++) POW10.push(Number(`1e${i}`));

const SPACE = 0x20;
const TAB = 0x09;
const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

/** `buf[start, end)` as a number, NaN when it is not a finite decimal number. */
export function parseDecimal(buf: Uint8Array, start: number, end: number): number {
  while (start < end && (buf[start] === SPACE || buf[start] === TAB)) start++;
  while (end > start && (buf[end - 1] === SPACE || buf[end - 1] === TAB)) end--;
  if (start === end) return NaN;

  let i = start;
  let negative = false;
  let b = buf[i];
  if (b === MINUS || b === PLUS) {
    negative = b === MINUS;
    i++;
  }
  let mantissa = 0;
  let significant = 0; // digits accumulated into mantissa, leading zeros excluded
  let dropped = 0; // integer digits beyond 15 significant ones
  let fractionDigits = 0;
  let digits = 0;
  while (i < end && (b = buf[i]) >= ZERO && b <= NINE) {
    if (significant < 15) {
      mantissa = mantissa * 10 + (b - ZERO);
      if (mantissa !== 0) significant++;
    } else {
      dropped++;
    }
    digits++;
    i++;
  }
  if (i < end && buf[i] === DOT) {
    i++;
    while (i < end && (b = buf[i]) >= ZERO && b <= NINE) {
      if (significant < 15) {
        mantissa = mantissa * 10 + (b - ZERO);
        if (mantissa !== 0) significant++;
        fractionDigits++;
      } else if (b !== ZERO) {
        dropped = -1; // a non-zero digit lost: only Number() rounds this right
      }
      digits++;
      i++;
    }
  }
  if (digits === 0) return NaN;
  let exponent = 0;
  if (i < end && (buf[i] === LOWER_E || buf[i] === UPPER_E)) {
    i++;
    let expNegative = false;
    if (i < end && (buf[i] === MINUS || buf[i] === PLUS)) {
      expNegative = buf[i] === MINUS;
      i++;
    }
    const expStart = i;
    while (i < end && (b = buf[i]) >= ZERO && b <= NINE) {
      if (exponent < 100000) exponent = exponent * 10 + (b - ZERO);
      i++;
    }
    if (i === expStart) return NaN;
    if (expNegative) exponent = -exponent;
  }
  if (i !== end) return NaN;

  // Integer digits past the 15th significant one are exact only when they are all zeros.
  if (dropped === 0 || (dropped > 0 && onlyZerosDropped(buf, start, end))) {
    const scale = exponent - fractionDigits + dropped;
    let value = NaN;
    if (scale === 0) value = mantissa;
    else if (scale > 0 && scale <= 22) value = mantissa * POW10[scale];
    else if (scale < 0 && scale >= -22) value = mantissa / POW10[-scale];
    if (value === value) return negative ? -value : value;
  }
  return finite(Number(latin1(buf, start, end)));
}

const DECIMAL_TEXT = /^[ \t]*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[ \t]*$/;

/** The same rules for a cell that was already decoded (quoted CSV fields). */
export function parseDecimalText(text: string): number {
  if (!DECIMAL_TEXT.test(text)) return NaN;
  return finite(Number(text));
}

function finite(x: number): number {
  return Number.isFinite(x) && Math.abs(x) <= MAX_MAGNITUDE ? x : NaN;
}

function latin1(buf: Uint8Array, start: number, end: number): string {
  // Buffer's own slice method avoids making a Buffer view per cell on this (common) slow path.
  const b = buf as Buffer & { latin1Slice?: (s: number, e: number) => string };
  if (typeof b.latin1Slice === 'function') return b.latin1Slice(start, end);
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
}

/** True when every integer digit after the 15th significant one is a zero. */
function onlyZerosDropped(buf: Uint8Array, start: number, end: number): boolean {
  let significant = 0;
  for (let i = start; i < end; i++) {
    const b = buf[i];
    if (b === DOT || b === LOWER_E || b === UPPER_E) return true;
    if (b < ZERO || b > NINE) continue;
    if (significant >= 15) {
      if (b !== ZERO) return false;
    } else if (b !== ZERO || significant > 0) {
      significant++;
    }
  }
  return true;
}
