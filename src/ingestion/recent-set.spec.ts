import { RecentSet } from './recent-set';

describe('RecentSet', () => {
  it('remembers values until they expire', () => {
    let now = 1000;
    const set = new RecentSet(10, 100, () => now);
    expect(set.add('a')).toBe(true);
    expect(set.add('a')).toBe(false);
    now += 99;
    expect(set.has('a')).toBe(true);
    now += 1;
    expect(set.has('a')).toBe(false);
    expect(set.add('a')).toBe(true);
  });

  it('keeps at most maxEntries, forgetting the oldest first', () => {
    const set = new RecentSet(3, 60_000);
    for (const v of ['a', 'b', 'c', 'd']) set.add(v);
    expect(set.size).toBe(3);
    expect(set.has('a')).toBe(false);
    expect(['b', 'c', 'd'].every((v) => set.has(v))).toBe(true);
  });

  it('drops expired entries when adding, so memory follows the window', () => {
    let now = 0;
    const set = new RecentSet(1000, 10, () => now);
    for (let i = 0; i < 100; i++) set.add(`old-${i}`);
    now = 20;
    set.add('new');
    expect(set.size).toBe(1);
  });

  it('forgets a deleted value', () => {
    const set = new RecentSet(3, 60_000);
    set.add('a');
    set.delete('a');
    expect(set.has('a')).toBe(false);
  });
});
