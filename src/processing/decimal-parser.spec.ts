import { createRng } from '../detection/seeded-random';
import { parseDecimal, parseDecimalText } from './decimal-parser';

const parse = (s: string) => {
  const b = Buffer.from(`#${s}#`, 'latin1'); // offsets inside a larger buffer, as in a CSV line
  return parseDecimal(b, 1, b.length - 1);
};

describe('parseDecimal', () => {
  it.each([
    ['0', 0],
    ['11', 11],
    ['-12.5', -12.5],
    ['+3', 3],
    ['1013.25', 1013.25],
    ['.5', 0.5],
    ['5.', 5],
    ['1e3', 1000],
    ['2.5E-3', 0.0025],
    ['  7 ', 7],
    ['\t-1\t', -1],
    ['0.000001234', 0.000001234],
    ['123456789012345678901234567890', 123456789012345678901234567890],
    ['1234567890123456789', 1234567890123456789],
    ['0.1234567890123456789', 0.1234567890123456789],
    ['9007199254740993', 9007199254740993],
    ['1e-400', 0],
  ])('%j -> %d', (text, expected) => {
    expect(parse(text)).toBe(expected);
    expect(parseDecimalText(text)).toBe(expected);
  });

  it.each(['', ' ', 'NA', 'nan', 'NaN', 'Infinity', '-inf', '0x10', '1,5', '1e', '--1', '1.2.3', 'e5', '.', '-', '1e999', '12abc', '1e200', '-1e200', '2e60'])(
    '%j is not a number (NaN)',
    (text) => {
      expect(parse(text)).toBeNaN();
      expect(parseDecimalText(text)).toBeNaN();
    },
  );

  it('takes magnitudes up to 1e60, whose fourth powers the moments can still sum', () => {
    expect(parse('1e60')).toBe(1e60);
    expect(parse('-9.99e59')).toBe(-9.99e59);
    expect(parseDecimalText('1e60')).toBe(1e60);
  });

  it('agrees with Number() bit for bit on random decimals of every shape', () => {
    const rng = createRng(7);
    for (let i = 0; i < 100000; i++) {
      const digits = 1 + Math.floor(rng() * 20);
      let s = rng() < 0.3 ? '-' : '';
      for (let d = 0; d < digits; d++) s += Math.floor(rng() * 10);
      if (rng() < 0.7) {
        const cut = Math.floor(rng() * s.length);
        if (/\d/.test(s[cut] ?? '')) s = s.slice(0, cut) + '.' + s.slice(cut);
      }
      if (rng() < 0.2) s += `e${Math.floor(rng() * 60) - 30}`;
      const expected = Number(s);
      const got = parse(s);
      if (!Object.is(got, expected)) throw new Error(`${s}: got ${got}, expected ${expected}`);
    }
  });

  it('agrees with Number() on values as the producer writes them', () => {
    const rng = createRng(11);
    let checked = 0;
    for (let i = 0; i < 100000; i++) {
      const s = String(Math.round((rng() - 0.5) * 2e6) / 100);
      if (!Object.is(parse(s), Number(s))) throw new Error(`${s}: got ${parse(s)}`);
      checked++;
    }
    expect(checked).toBe(100000);
  });
});
