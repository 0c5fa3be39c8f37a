import { createRng } from '../detection/seeded-random';
import { ByteWriter } from './byte-writer';

const fixed4 = (x: number) => {
  const w = new ByteWriter(64);
  w.fixed4(x);
  return w.take().toString('latin1');
};

describe('ByteWriter', () => {
  it.each([
    [0, '0.0000'],
    [-0, '0.0000'],
    [-0.00004, '0.0000'],
    [1, '1.0000'],
    [-1.23456, '-1.2346'],
    [6.25, '6.2500'],
    [0.00005, '0.0001'],
    [-0.00005, '-0.0001'],
    [123456.78901, '123456.7890'],
    [1e20, '100000000000000000000.0000'],
    [-3.99999, '-4.0000'],
  ])('fixed4(%d) = %s', (x, text) => {
    expect(fixed4(x)).toBe(text);
  });

  it('writes nothing for NaN and infinities: they become empty cells', () => {
    expect(fixed4(NaN)).toBe('');
    expect(fixed4(Infinity)).toBe('');
    expect(fixed4(-Infinity)).toBe('');
  });

  it('is within half a unit of the 4th decimal of the exact value, and parses back', () => {
    const rng = createRng(3);
    let differs = 0;
    for (let i = 0; i < 50000; i++) {
      const x = (rng() - 0.5) * Math.pow(10, Math.floor(rng() * 12) - 4);
      const s = fixed4(x);
      const ok = /^-?\d+\.\d{4}$/.test(s) && Math.abs(Number(s) - x) <= 0.00005 + Math.abs(x) * 1e-15;
      if (!ok) throw new Error(`fixed4(${x}) = ${s}`);
      // Same as toFixed except near exact ties, where both are valid roundings.
      const ref = x.toFixed(4);
      if (s !== ref && !(ref === '-0.0000' && s === '0.0000')) {
        differs++;
        if (Math.abs(Number(s) - Number(ref)) > 0.0001 * (1 + 1e-9)) throw new Error(`fixed4(${x}) = ${s}, toFixed ${ref}`);
      }
    }
    expect(differs).toBeLessThan(50);
  });

  it('writes integers, text as UTF-8 and raw bytes, and grows past its chunk size', () => {
    const w = new ByteWriter(8);
    w.int(-42);
    w.byte(0x2c);
    w.int(1234567890123);
    w.text(',température,');
    w.bytes(Buffer.from('xxabcxx'), 2, 5);
    expect(w.full).toBe(true);
    expect(w.take().toString('utf8')).toBe('-42,1234567890123,température,abc');
    expect(w.length).toBe(0);
    expect(w.full).toBe(false);
  });
});
