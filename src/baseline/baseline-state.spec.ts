import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { contributionOf, gaussianRows, learnedContribution, rng } from '../../test/baseline/contribution-builder';
import { BaselineFormatError, InvalidContributionError } from './baseline.errors';
import { BaselineState, BaselineStateOptions } from './baseline-state';
import { RunningStats } from './running-stats';

const FIXTURES = path.join(__dirname, '../../test/baseline/fixtures');
const COLUMNS = ['temperature', 'humidity', 'pressure', 'wind_speed'];
const MEANS = [22, 55, 1013, 10];
const STDS = [1.5, 5, 3, 2.5];
const OPTIONS: BaselineStateOptions = { minCount: 30, includeAnomalies: false, now: () => new Date('2026-03-01T00:00:00Z') };

const src = (i: number, etag = 'e') => ({ key: `raw/b${i}.csv`, etag });

function roundTrip(state: BaselineState, options = OPTIONS): BaselineState {
  return BaselineState.parse(state.serialize(), options);
}

describe('BaselineState', () => {
  describe('reference-written baseline.json', () => {
    const text = readFileSync(path.join(FIXTURES, 'reference-baseline.json'), 'utf8');

    it('loads as is: counts, means, std; M3/M4 assumed Gaussian', () => {
      const state = BaselineState.parse(text, OPTIONS);
      const ref = JSON.parse(text);
      for (const ch of COLUMNS) {
        const s = state.lookup(ch)!;
        expect(s.count).toBe(ref[ch].count);
        expect(s.mean).toBe(ref[ch].mean);
        expect(s.m2).toBe(ref[ch].M2);
        expect(s.std).toBeCloseTo(ref[ch].std, 12);
        expect(s.skewness).toBe(0);
        expect(s.kurtosis).toBeCloseTo(0, 12);
        expect(state.isMature(ch)).toBe(true);
      }
      expect(state.updatedAt).toBe('2026-02-24T00:13:02.417733');
      expect(state.absorbedCount).toBe(0);
      expect(state.snapshot().window.size).toBe(0);
    });

    it('agrees with our own statistics over the same sample batches', () => {
      const state = BaselineState.parse(text, OPTIONS);
      const dir = path.join(FIXTURES, 'sample');
      const ours = COLUMNS.map(() => new RunningStats());
      for (const file of ['sensors_20260224T001051.csv', 'sensors_20260224T001151.csv', 'sensors_20260224T001251.csv']) {
        const lines = readFileSync(path.join(dir, file), 'utf8').trim().split(/\r?\n/).slice(1);
        for (const line of lines) line.split(',').slice(1).forEach((v, c) => ours[c].push(Number(v)));
      }
      COLUMNS.forEach((ch, c) => {
        const ref = state.lookup(ch)!;
        expect(ours[c].count).toBe(ref.count);
        expect(ours[c].mean).toBeCloseTo(ref.mean, 10);
        expect(ours[c].m2 / ref.m2).toBeCloseTo(1, 10);
      });
    });

    it('keeps the reference fields first when written back, and reloads to the same lineage', () => {
      const a = BaselineState.parse(text, OPTIONS);
      const b = BaselineState.parse(text, OPTIONS);
      expect(a.lineage).toBe(b.lineage);
      const json = a.toJSON() as Record<string, any>;
      expect(Object.keys(json)).toEqual([...COLUMNS, 'last_updated', '_state']);
      expect(Object.keys(json.temperature)).toEqual(['count', 'mean', 'M2', 'std', 'M3', 'M4']);
      expect(json.last_updated).toBe('2026-02-24T00:13:02.417733');
    });

    it('an empty object (what the reference starts from) is an empty baseline', () => {
      const s = BaselineState.parse('{}', OPTIONS);
      expect(s.channels()).toEqual([]);
    });
  });

  describe('JSON round trip', () => {
    it('restores stats, entities, reserved names, ledger, window and the learned tails and episodes', () => {
      const state = BaselineState.empty({ ...OPTIONS, minCount: 5 });
      const r = rng(1);
      // Odd names on purpose: none of them may collide with each other or with the reserved keys.
      const odd = ['last_updated', '_state', '__proto__', 'a/b', 'constructor'];
      state.absorb(src(1), contributionOf(odd, gaussianRows(r, 300, [1, 2, 3, 4, 5], [1, 1, 1, 1, 1])));
      state.absorb(src(2), contributionOf(COLUMNS, gaussianRows(r, 50, MEANS, STDS), undefined, 'host/1'));
      state.absorb(src(3), contributionOf(COLUMNS, gaussianRows(r, 50, MEANS, STDS), undefined, '__proto__'));
      // Batches as the pipeline learns them: tails, changes, and for host/1 an episode under way.
      for (let b = 0; b < 5; b++) state.absorb(src(10 + b), learnedContribution(state.snapshot(), COLUMNS, gaussianRows(r, 100, MEANS, STDS), { minCount: 5, entity: 'host/1' }).contribution);
      const shifted = gaussianRows(r, 50, [22, 90, 1013, 10], STDS);
      state.absorb(src(4), learnedContribution(state.snapshot(), COLUMNS, shifted, { minCount: 5, entity: 'host/1' }).contribution);
      expect(state.inEpisode('humidity', 'host/1')).toBe(true);

      const back = roundTrip(state, { ...OPTIONS, minCount: 5 });
      expect(back.serialize()).toBe(state.serialize());
      expect(back.lineage).toBe(state.lineage);
      expect(back.sequence).toBe(9);
      expect(back.hasAbsorbed('raw/b3.csv', 'e')).toBe(true);
      expect(back.hasAbsorbed('raw/b3.csv', 'other')).toBe(false);
      expect(back.inEpisode('humidity', 'host/1')).toBe(true);
      expect(back.inEpisode('temperature', 'host/1')).toBe(false);
      for (const name of odd) expect(back.lookup(name)!.count).toBe(300);
      expect(back.lookup('temperature', '__proto__')!.count).toBe(50);
      expect(back.lookup('temperature', 'host/1')!.count).toBe(600);
      // The all-entities entry of a channel sums its entities.
      expect(back.lookup('temperature')!.count).toBe(650);
      const learned = back.snapshot().lookup('temperature', 'host/1')!;
      expect(learned.tails).toBeDefined();
      expect(learned.change!.count).toBeGreaterThan(500);
      const json = JSON.parse(state.serialize());
      expect(Object.keys(json)).toEqual(expect.arrayContaining(['__proto__', 'a/b', 'constructor', 'temperature', 'last_updated', '_state']));
      expect(Object.keys(json._state.reserved_channels)).toEqual(['last_updated', '_state']);
      expect(json._state.entities['host/1'].temperature.count).toBe(600);
      const snap = back.snapshot();
      expect(snap.window.columns).toEqual(COLUMNS);
      expect(snap.window.generation).toBe(state.snapshot().window.generation);
    });

    it('loads a version-1 state (before tails and episodes): moments, ledger and window kept, learning starts from there', () => {
      const v1 = {
        temperature: { count: 300, mean: 22, M2: 675, std: 1.5, M3: 0, M4: 4556.25 },
        last_updated: '2026-02-24T00:13:02.417Z',
        _state: {
          version: 1,
          lineage: 'abc',
          sequence: 3,
          ledger: { capacity: 20000, entries: [['raw/a.csv', 'e1']] },
          window: null,
          level_shift: [{ channel: 'temperature', side: 1, batches: 1, rejected: { count: 60, mean: 30, M2: 60, std: 1 } }],
        },
      };
      const s = BaselineState.parse(JSON.stringify(v1), OPTIONS);
      expect([s.lineage, s.sequence, s.hasAbsorbed('raw/a.csv', 'e1'), s.lookup('temperature')!.count]).toEqual(['abc', 3, true, 300]);
      expect(s.inEpisode('temperature')).toBe(false);
      const r = rng(21);
      s.absorb(src(9), learnedContribution(s.snapshot(), ['temperature'], gaussianRows(r, 100, [22], [1.5])).contribution);
      const json = JSON.parse(s.serialize());
      expect(json._state.version).toBe(2);
      expect(json._state.level_shift).toBeUndefined();
      expect(json._state.learning.channels.temperature.tails.upper.length).toBeGreaterThan(0);
    });

    it('a reloaded state continues exactly like the one kept in memory', () => {
      const r = rng(13);
      const rows = Array.from({ length: 3000 }, () => [1e9 + 1e-3 * gaussian(r), Math.exp(gaussian(r))]);
      const kept = BaselineState.empty(OPTIONS);
      let reloaded = BaselineState.parse(kept.serialize(), OPTIONS); // same lineage
      for (let b = 0; b < 30; b++) {
        const c = contributionOf(['big', 'small'], rows.slice(b * 100, b * 100 + 100));
        kept.absorb(src(b), c);
        reloaded.absorb(src(b), c);
        reloaded = roundTrip(reloaded);
      }
      const a = reloaded.toJSON() as Record<string, unknown>;
      const b = kept.toJSON() as Record<string, unknown>;
      expect({ big: a.big, small: a.small }).toEqual({ big: b.big, small: b.small });
      expect(reloaded.serialize() === kept.serialize()).toBe(true);
    });

    it.each([
      ['[]', /must hold a JSON object/],
      ['{"temperature": 5}', /baseline\.json "temperature" must be an object/],
      ['{"temperature": {"count": 3, "mean": 1, "M2": -1, "std": 0}}', /baseline\.json "temperature"\.M2 must be a finite number >= 0, got -1/],
      ['{"last_updated": 12}', /"last_updated" must be an ISO-8601 date string, got 12/],
      ['{"last_updated": "yesterday"}', /"last_updated" must be an ISO-8601 date string/],
      ['{"_state": {"version": 3}}', /"_state"\.version must be one of 1, 2, got 3/],
      ['{"_state": {"version": 1, "lineage": "x", "sequence": 1.5}}', /"_state"\.sequence must be an integer >= 0/],
      ['{"_state": {"version": 1, "lineage": "x", "sequence": 1, "ledger": {"capacity": 5, "entries": [["k"]]}}}', /"_state"\.ledger\.entries\[0\] must be \[key, etag\]/],
      ['{"_state": {"version": 1, "lineage": "x", "sequence": 1, "ledger": {"capacity": 5, "entries": []}, "window": {"version": 9}}}', /"_state"\.window: invalid reference window: unsupported version 9/],
      ['{"_state": {"version": 1, "lineage": "x", "sequence": 1, "entities": {"h1": {"cpu": {"count": "x"}}}, "ledger": {"capacity": 5, "entries": []}}}', /"_state"\.entities "h1" "cpu"\.count must be/],
      ['{"_state": {"version": 2, "lineage": "x", "sequence": 0, "ledger": {"capacity": 5, "entries": []}, "learning": {"channels": {"t": {"tails": 5}}}}}', /learning\.channels "t"\.tails must be \{upper, lower\}/],
      ['{"temperature": {"count": 3, "mean": 1', /is not valid JSON/],
    ])('rejects %s with a message naming the key', (text, message) => {
      expect(() => BaselineState.parse(text, OPTIONS)).toThrow(BaselineFormatError);
      expect(() => BaselineState.parse(text, OPTIONS)).toThrow(message);
    });
  });

  describe('absorb', () => {
    it('folds accepted values only by default, and both with includeAnomalies', () => {
      const rows = [[1], [2], [3], [100]];
      const flag = (_c: number, v: number) => v > 50;
      const strict = BaselineState.empty(OPTIONS);
      strict.absorb(src(1), contributionOf(['x'], rows, flag));
      expect(strict.lookup('x')!.toJSON()).toEqual(RunningStats.of([1, 2, 3]).toJSON());
      const inclusive = BaselineState.empty({ ...OPTIONS, includeAnomalies: true });
      inclusive.absorb(src(1), contributionOf(['x'], rows, flag));
      expect(inclusive.lookup('x')!.count).toBe(4);
      expect(inclusive.lookup('x')!.mean).toBeCloseTo(26.5, 12);
    });

    it('refuses, changing nothing, a batch whose values would overflow the stored moments', () => {
      const state = BaselineState.empty(OPTIONS);
      state.absorb(src(1), contributionOf(['x'], [[1], [2], [3]], () => false));
      const before = JSON.stringify(state.toJSON());
      // Identical values: the batch's own moments are finite (all zero), only the merge overflows.
      const huge = Array.from({ length: 100 }, () => [1e78]);
      expect(() => state.absorb(src(2), contributionOf(['x'], huge, () => false))).toThrow(InvalidContributionError);
      expect(() => state.absorb(src(2), contributionOf(['x'], huge, () => false))).toThrow(/overflow.*"x"/);
      expect(JSON.stringify(state.toJSON())).toBe(before);
      expect(JSON.stringify(state.toJSON())).not.toContain('null');
      expect(state.hasAbsorbed('raw/b2.csv', 'e')).toBe(false);
    });

    it('is idempotent per key + ETag; a new ETag is a new object', () => {
      const state = BaselineState.empty(OPTIONS);
      const c = contributionOf(COLUMNS, gaussianRows(rng(2), 100, MEANS, STDS));
      expect(state.absorb(src(1), c).status).toBe('absorbed');
      const before = state.serialize();
      const version = state.version;
      expect(state.absorb(src(1), c)).toEqual({ status: 'duplicate', events: [] });
      expect(state.serialize()).toBe(before);
      expect(state.version).toBe(version);
      expect(state.absorb(src(1, 'changed'), c).status).toBe('absorbed');
      expect(state.lookup('temperature')!.count).toBe(200);
    });

    it('equals one merge of everything, whatever the batch boundaries', () => {
      const r = rng(3);
      const rows = gaussianRows(r, 1000, MEANS, STDS);
      const state = BaselineState.empty(OPTIONS);
      for (let i = 0, b = 0; i < rows.length; b++) {
        const n = 1 + Math.floor(r() * 150);
        state.absorb(src(b), contributionOf(COLUMNS, rows.slice(i, i + n)));
        i += n;
      }
      COLUMNS.forEach((ch, c) => {
        const direct = RunningStats.of(rows.map((row) => row[c]));
        const s = state.lookup(ch)!;
        expect(s.count).toBe(1000);
        expect(s.mean).toBeCloseTo(direct.mean, 9);
        expect(s.m2 / direct.m2).toBeCloseTo(1, 9);
        expect(s.m4 / direct.m4).toBeCloseTo(1, 9);
      });
    });

    it('changes nothing when the contribution is invalid', () => {
      const state = BaselineState.empty(OPTIONS);
      state.absorb(src(1), contributionOf(['x', 'y'], [[1, 2], [3, 4]]));
      const before = state.serialize();
      const good = contributionOf(['x', 'y'], [[5, 6]]);
      const bad = [
        { ...good, channels: [good.channels[0], good.channels[0]] },
        { ...good, normalRows: [{ values: [1] }] },
        { ...good, channels: [{ channel: '', accepted: new RunningStats(), rejected: new RunningStats() }] },
        { ...good, channels: [{ channel: 'x', accepted: { count: 1 } as unknown as RunningStats, rejected: new RunningStats() }] },
      ];
      for (const c of bad) expect(() => state.absorb(src(2), c)).toThrow(InvalidContributionError);
      expect(() => state.absorb({ key: '', etag: 'e' }, good)).toThrow(InvalidContributionError);
      expect(state.serialize()).toBe(before);
      expect(state.hasAbsorbed('raw/b2.csv', 'e')).toBe(false);
    });

    it('forgets the oldest ledger entries beyond its bound', () => {
      const state = BaselineState.empty({ ...OPTIONS, ledgerCapacity: 3 });
      for (let i = 1; i <= 5; i++) state.absorb(src(i), contributionOf(['x'], [[i]]));
      expect([1, 2, 3, 4, 5].map((i) => state.hasAbsorbed(`raw/b${i}.csv`, 'e'))).toEqual([false, false, true, true, true]);
      expect(roundTrip(state, { ...OPTIONS, ledgerCapacity: 3 }).absorbedCount).toBe(3);
    });

    it('maturity follows BASELINE_MIN_COUNT', () => {
      const state = BaselineState.empty(OPTIONS);
      state.absorb(src(1), contributionOf(['x'], Array.from({ length: 29 }, (_, i) => [i])));
      expect(state.isMature('x')).toBe(false);
      state.absorb(src(2), contributionOf(['x'], [[1]]));
      expect(state.isMature('x')).toBe(true);
      expect(state.channels()).toEqual([{ channel: 'x', stats: expect.any(RunningStats), mature: true }]);
    });
  });

  describe('snapshot', () => {
    it('is frozen: later absorbs do not change it; it is reused while nothing changes', () => {
      const state = BaselineState.empty({ ...OPTIONS, minCount: 2 });
      state.absorb(src(1), contributionOf(['x', 'y'], gaussianRows(rng(4), 300, [0, 0], [1, 1])));
      const snap = state.snapshot();
      expect(state.snapshot()).toBe(snap);
      const before = { ...snap.lookup('x')! };
      const generation = snap.window.generation;
      const size = snap.window.size;
      expect(size).toBe(256); // the first commit of the window
      state.absorb(src(2), contributionOf(['x', 'y'], gaussianRows(rng(5), 600, [5, 5], [1, 1])));
      expect(snap.lookup('x')).toEqual(before);
      expect(snap.window.generation).toBe(generation);
      expect(snap.window.size).toBe(size);
      expect(state.snapshot()).not.toBe(snap);
      expect(state.snapshot().lookup('x')!.count).toBe(900);
      expect(snap.lookup('nope')).toBeUndefined();
      expect(Object.isFrozen(snap.lookup('x'))).toBe(true);
    });

    it('exposes skewness and excess kurtosis', () => {
      const state = BaselineState.empty(OPTIONS);
      const r = rng(6);
      state.absorb(src(1), contributionOf(['lat'], Array.from({ length: 5000 }, () => [Math.exp(gaussian(r))])));
      const b = state.snapshot().lookup('lat')!;
      expect(b.skewness).toBeGreaterThan(2);
      expect(b.kurtosis).toBeGreaterThan(5);
    });
  });

  describe('reference window', () => {
    it('takes normal rows, mapping a different column order by name', () => {
      const state = BaselineState.empty(OPTIONS);
      state.absorb(src(1), contributionOf(['a', 'b'], Array.from({ length: 256 }, () => [1, 2])));
      state.absorb(src(2), contributionOf(['b', 'a'], Array.from({ length: 1024 }, () => [2, 1])));
      const w = state.snapshot().window;
      expect(w.columns).toEqual(['a', 'b']);
      expect(w.size).toBe(1280);
      for (let i = 0; i < w.size; i++) expect(Array.from(w.row(i).values)).toEqual([1, 2]);
    });

    it('starts over, with a later generation, when the channels change', () => {
      const state = BaselineState.empty(OPTIONS);
      state.absorb(src(1), contributionOf(['a', 'b'], Array.from({ length: 256 }, () => [1, 2])));
      const g = state.snapshot().window.generation;
      const { events } = state.absorb(src(2), contributionOf(['a', 'c'], [[1, 3]]));
      expect(events).toEqual([{ type: 'window-reset', reason: expect.stringContaining('channels changed') }]);
      const w = state.snapshot().window;
      expect(w.columns).toEqual(['a', 'c']);
      expect(w.size).toBe(0);
      expect(w.generation).toBeGreaterThan(g);
    });
  });

  describe('half-life', () => {
    it('decays the old statistics by 0.5^(n / halfLife) before merging n observations', () => {
      const state = BaselineState.empty({ ...OPTIONS, halfLife: 100 });
      state.absorb(src(1), contributionOf(['x'], Array.from({ length: 100 }, () => [0])));
      state.absorb(src(2), contributionOf(['x'], Array.from({ length: 100 }, () => [10])));
      const s = state.lookup('x')!;
      // Old weight 100 * 0.5 = 50, new 100: mean = 10 * 100 / 150.
      expect(s.count).toBeCloseTo(150, 12);
      expect(s.mean).toBeCloseTo(20 / 3, 12);
    });

    it('follows a drifting mean that the cumulative baseline lags behind', () => {
      const r = rng(7);
      const cumulative = BaselineState.empty(OPTIONS);
      const forgetting = BaselineState.empty({ ...OPTIONS, halfLife: 500 });
      let level = 0;
      for (let b = 0; b < 200; b++) {
        level = b * 0.05; // +0.05 std per batch, 10 std over the stream
        const rows = gaussianRows(r, 100, [level], [1]);
        cumulative.absorb(src(b), contributionOf(['x'], rows));
        forgetting.absorb(src(b), contributionOf(['x'], rows));
      }
      const lagCumulative = level - cumulative.lookup('x')!.mean;
      const lagForgetting = level - forgetting.lookup('x')!.mean;
      expect(lagCumulative).toBeGreaterThan(4);
      expect(lagForgetting).toBeLessThan(0.6);
      // The cumulative std is inflated by the drift; the forgetting one stays near the true 1.
      expect(cumulative.lookup('x')!.std).toBeGreaterThan(2.5);
      expect(forgetting.lookup('x')!.std).toBeLessThan(1.2);
    });
  });

  describe('episodes', () => {
    const minCount = 30;
    const relearnAfter = { ms: 2 * 3600_000, rows: 1000, minRows: minCount };

    /** `batches` batches of 100 rows a minute apart through the real detector and learner; the flagged share of each and the events. */
    function replay(state: BaselineState, batches: number, mean: (b: number) => number, r: () => number, first = 0, spikes = 0) {
      const shares: number[] = [];
      const events: string[] = [];
      for (let b = first; b < first + batches; b++) {
        const rows = gaussianRows(r, 100, [mean(b)], [1]);
        for (let k = 0; k < spikes; k++) rows[Math.floor(r() * 100)][0] = mean(b) + (r() < 0.5 ? -1 : 1) * (6 + 3 * r());
        const { contribution, flagged } = learnedContribution(state.snapshot(), ['x'], rows, { minCount, time0: b * 100 * 60_000, relearnAfter });
        shares.push(flagged / 100);
        const res = state.absorb(src(b), contribution);
        events.push(...res.events.map((e) => (e.type === 'level-shift' ? `shift@${b}` : `reset@${b}`)));
      }
      return { shares, events };
    }

    it('a new level held for longer than relearnAfter becomes the center; flags stop; the window moves with it', () => {
      const state = BaselineState.empty({ ...OPTIONS, minCount, relearnAfter });
      const r = rng(8);
      replay(state, 30, () => 0, r);
      expect(state.snapshot().window.size).toBeGreaterThan(0);
      // 100 rows a minute apart per batch: 2 h is 120 rows, the episode starts within the first ones.
      const { shares, events } = replay(state, 10, () => 8, r, 30);
      expect(events).toEqual(['shift@31']);
      expect(shares[0]).toBeGreaterThan(0.9);
      expect(Math.max(...shares.slice(3))).toBeLessThanOrEqual(0.02);
      expect(state.lookup('x')!.mean).toBeGreaterThan(7);
      // The window's rows moved to the new level: no row of the old regime left near 0.
      const w = state.snapshot().window;
      for (let i = 0; i < w.size; i++) expect(w.row(i).values[0]).toBeGreaterThan(3);
    });

    it('an incident shorter than relearnAfter stays flagged throughout, and the return to the old level is normal', () => {
      const state = BaselineState.empty({ ...OPTIONS, minCount, relearnAfter });
      const r = rng(14);
      replay(state, 30, () => 0, r);
      // 90 minutes at +6 sigma, then back, in one batch of 100 rows a minute apart.
      const rows = gaussianRows(r, 100, [0], [1]).map((row, i) => (i < 90 ? [row[0] + 6] : row));
      const { contribution } = learnedContribution(state.snapshot(), ['x'], rows, { minCount, time0: 30 * 100 * 60_000, relearnAfter });
      const flaggedDuring = learnedContribution(state.snapshot(), ['x'], rows.slice(0, 90), { minCount }).flagged;
      expect(flaggedDuring / 90).toBeGreaterThan(0.9);
      expect(state.absorb(src(30), contribution).events).toEqual([]);
      const after = replay(state, 5, () => 0, r, 31);
      expect(after.events).toEqual([]);
      expect(Math.max(...after.shares)).toBeLessThanOrEqual(0.02);
      expect(state.lookup('x')!.mean).toBeLessThan(0.5);
    });

    it('never moves the center on isolated spikes, even many of them', () => {
      const state = BaselineState.empty({ ...OPTIONS, minCount, relearnAfter });
      const r = rng(9);
      replay(state, 30, () => 0, r);
      const { events, shares } = replay(state, 50, () => 0, r, 30, 3);
      expect(events).toEqual([]);
      expect(state.lookup('x')!.mean).toBeCloseTo(0, 0);
      // The spikes stay flagged: they did not teach the channel a wider tail.
      expect(shares.slice(-10).reduce((a, b) => a + b, 0) / 10).toBeGreaterThanOrEqual(0.02);
    });

    it('a channel wider than it first looked is learned within relearnAfter, without moving its center', () => {
      const state = BaselineState.empty({ ...OPTIONS, minCount, relearnAfter });
      const r = rng(10);
      replay(state, 10, () => 0, r);
      const wide = (b: number) => {
        const rows = gaussianRows(r, 100, [0], [5]);
        return learnedContribution(state.snapshot(), ['x'], rows, { minCount, time0: b * 100 * 60_000, relearnAfter });
      };
      const shares: number[] = [];
      for (let b = 10; b < 30; b++) {
        const { contribution, flagged } = wide(b);
        expect(state.absorb(src(b), contribution).events).toEqual([]);
        shares.push(flagged / 100);
      }
      expect(shares[0]).toBeGreaterThan(0.2);
      expect(Math.max(...shares.slice(-5))).toBeLessThanOrEqual(0.02);
      expect(state.lookup('x')!.mean).toBeCloseTo(0, -0.5);
    });

    it('runs per entity in entity mode', () => {
      const state = BaselineState.empty({ ...OPTIONS, minCount, relearnAfter });
      const r = rng(12);
      for (let b = 0; b < 40; b++) {
        for (const host of ['h1', 'h2']) {
          const rows = gaussianRows(r, 50, [b >= 30 && host === 'h2' ? 10 : 0], [1]);
          const { contribution } = learnedContribution(state.snapshot(), ['cpu'], rows, { minCount, entity: host, time0: b * 50 * 60_000, relearnAfter });
          state.absorb({ key: `raw/${host}-${b}.csv`, etag: 'e' }, contribution);
        }
      }
      expect(state.lookup('cpu', 'h1')!.mean).toBeCloseTo(0, 0);
      expect(state.lookup('cpu', 'h2')!.mean).toBeGreaterThan(9);
    });
  });
});

function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

describe('BaselineState.serialize', () => {
  it('gives exactly JSON.stringify(toJSON()), window rows included, before and after the window commits', () => {
    const state = BaselineState.empty(OPTIONS);
    for (let b = 0; b < 12; b++) {
      state.absorb(src(b), contributionOf(COLUMNS, gaussianRows(rng(b), 100, MEANS, STDS)));
      expect(state.serialize()).toBe(JSON.stringify(state.toJSON()));
    }
    expect(JSON.parse(state.serialize())._state.window.rows.length).toBeGreaterThan(0);
  });

  it('stays exact while the ledger evicts its oldest entries (its text is kept between changes)', () => {
    const state = BaselineState.empty({ ...OPTIONS, ledgerCapacity: 7 });
    for (let b = 0; b < 40; b++) {
      state.absorb(src(b, `"quoted\\etag ${b}"`), contributionOf(COLUMNS, gaussianRows(rng(b), 20, MEANS, STDS)));
      expect(state.serialize()).toBe(JSON.stringify(state.toJSON()));
    }
    expect(JSON.parse(state.serialize())._state.ledger.entries.map((e: string[]) => e[0])).toEqual(
      Array.from({ length: 7 }, (_, i) => `raw/b${33 + i}.csv`),
    );
  });

  it('stays exact when a channel is named like one of its placeholders', () => {
    const state = BaselineState.empty(OPTIONS);
    const odd = ['\u0000ledger-entries\u0000', '\u0000window-rows\u0000'];
    for (let b = 0; b < 12; b++) state.absorb(src(b), contributionOf(odd, gaussianRows(rng(b), 100, [1, 2], [1, 1])));
    expect(state.serialize()).toBe(JSON.stringify(state.toJSON()));
    expect(BaselineState.parse(state.serialize(), OPTIONS).lookup(odd[0])!.count).toBe(state.lookup(odd[0])!.count);
  });
});

describe('BaselineState bounds', () => {
  it('refuses a batch that would learn more channels or entities than allowed, whole and before anything changes', () => {
    const r = rng(3);
    const state = BaselineState.empty({ ...OPTIONS, maxChannels: 3, maxEntities: 2 });
    state.absorb(src(0), contributionOf(['a', 'b'], gaussianRows(r, 40, [1, 2], [1, 1])));
    const before = state.sequence;
    expect(() => state.absorb(src(1), contributionOf(['b', 'c', 'd'], gaussianRows(r, 40, [1, 2, 3], [1, 1, 1])))).toThrow(InvalidContributionError);
    expect(() => state.absorb(src(1), contributionOf(['b', 'c', 'd'], gaussianRows(r, 40, [1, 2, 3], [1, 1, 1])))).toThrow(
      /would add 2 channel\(s\) \("c", "d"\) to the 2 learned, more than BASELINE_MAX_CHANNELS=3: name the channels to learn with CHANNELS/,
    );
    expect(state.sequence).toBe(before);
    expect(state.lookup('c')).toBeUndefined();
    state.absorb(src(2), contributionOf(['a'], gaussianRows(r, 40, [1], [1]), undefined, 'h1'));
    state.absorb(src(3), contributionOf(['a'], gaussianRows(r, 40, [1], [1]), undefined, 'h2'));
    expect(() => state.absorb(src(4), contributionOf(['a'], gaussianRows(r, 40, [1], [1]), undefined, 'h3'))).toThrow(/more than BASELINE_MAX_ENTITIES=2/);
    state.absorb(src(5), contributionOf(['a'], gaussianRows(r, 40, [1], [1]), undefined, 'h1')); // a known one still folds
    expect(state.lookup('a', 'h3')).toBeUndefined();
  });
});

describe('BaselineState report pages', () => {
  it('gives the plain channels and entities a page at a time, in name order, with where to go on', () => {
    const r = rng(4);
    const state = BaselineState.empty(OPTIONS);
    for (const host of ['h3', 'h1', 'h2', 'h5', 'h4']) state.absorb(src(Number(host.slice(1))), contributionOf(['a', 'b'], gaussianRows(r, 10, [1, 2], [1, 1]), undefined, host));
    const first = state.page(undefined, 2);
    expect(first.channels.map((c) => c.channel)).toEqual(['a', 'b']);
    expect(first.entities.map((c) => `${c.entity}/${c.channel}`)).toEqual(['h1/a', 'h1/b', 'h2/a', 'h2/b']);
    expect(first).toMatchObject({ totalEntities: 5, next: 'h2' });
    const second = state.page('h2', 2);
    expect([...new Set(second.entities.map((c) => c.entity))]).toEqual(['h3', 'h4']);
    const last = state.page(second.next!, 2);
    expect([...new Set(last.entities.map((c) => c.entity))]).toEqual(['h5']);
    expect(last.next).toBeNull();
  });
});
