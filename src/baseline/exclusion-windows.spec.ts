import { ExclusionWindows } from './exclusion-windows';

describe('ExclusionWindows', () => {
  const w = new ExclusionWindows([
    { id: 'a', from: 100, to: 200, verdict: 'anomaly' },
    { id: 'b', from: 150, to: 160, verdict: 'ignore' },
    { id: 'c', from: 0, to: 1000, verdict: 'anomaly' },
    { id: 'd', from: 2000, to: 2000, verdict: 'ignore' },
  ]);

  it('finds the window holding a time, bounds included, an ignore window first', () => {
    expect(w.at(-1)).toBeUndefined();
    expect(w.at(50)?.id).toBe('c');
    expect(w.at(100)?.id).toMatch(/^[ac]$/);
    expect(w.at(155)?.id).toBe('b');
    expect(w.at(160)?.id).toBe('b');
    expect(w.at(161)?.verdict).toBe('anomaly');
    expect(w.at(1000)?.id).toBe('c');
    expect(w.at(1001)).toBeUndefined();
    expect(w.at(2000)?.id).toBe('d');
    expect(w.at(NaN)).toBeUndefined();
  });

  it('replaces a window of the same id and stays sorted', () => {
    const v = w.with({ id: 'c', from: 500, to: 600, verdict: 'ignore' });
    expect(v.size).toBe(4);
    expect(v.at(50)).toBeUndefined();
    expect(v.at(550)?.id).toBe('c');
    expect(w.at(50)?.id).toBe('c'); // the original is unchanged
    expect(v.list().map((x) => x.from)).toEqual([100, 150, 500, 2000]);
  });
});
