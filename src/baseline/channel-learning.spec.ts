import { SeasonProfile } from '../detection/season-profile';
import { ChannelLearning, DEFAULT_RELEARN_AFTER, Episode, EPISODE_OFF } from './channel-learning';

describe('Episode', () => {
  it('starts when exceedances keep coming, not on isolated ones, and ends when they stop', () => {
    const e = new Episode();
    for (let i = 0; i < 100; i++) e.observe(i % 10 === 0, true, 9, i, NaN);
    expect(e.active).toBe(false);
    for (let i = 100; i < 110; i++) e.observe(true, true, 9, i, NaN);
    expect(e.active).toBe(true);
    expect(e.startRow).toBeLessThan(106);
    expect(e.values.count).toBeGreaterThan(3);
    let i = 110;
    while (e.active) e.observe(false, true, 0, i++, NaN);
    expect(e.rate).toBeLessThan(EPISODE_OFF);
    // From a rate near 0.6 down to EPISODE_OFF at 5 % per value: about 50 values.
    expect(i - 110).toBeLessThan(60);
  });

  it('measures its progress by time when rows have timestamps, else by rows, never before minRows', () => {
    const after = { ...DEFAULT_RELEARN_AFTER, ms: 3600_000, rows: 500, minRows: 30 };
    const e = new Episode();
    for (let i = 0; i < 10; i++) e.observe(true, true, 5, i, i * 60_000);
    expect(e.active).toBe(true);
    const t0 = e.startTime;
    expect(e.progress(e.startRow + 30, t0 + 1800_000, after)).toBeCloseTo(0.5, 12);
    expect(e.progress(e.startRow + 300, t0 + 7200_000, after)).toBe(1);
    // Hours between two rows (a daily series): still at least minRows rows.
    expect(e.progress(e.startRow + 3, t0 + 72 * 3600_000, after)).toBeCloseTo(3 / 30, 12);
    // No timestamps: rows.
    expect(e.progress(e.startRow + 250, NaN, after)).toBeCloseTo(0.5, 12);
    expect(new Episode().progress(100, NaN, after)).toBe(0);
  });
});

describe('ChannelLearning', () => {
  it('round-trips through JSON, infinite resolution and missing times included', () => {
    const l = new ChannelLearning();
    l.tails.add(1.5);
    l.tails.add(-0.5, 0.25);
    l.change.push(0.1);
    l.changeTails.add(0.3);
    l.discrete.add(3);
    l.last = 42;
    l.rows = 7;
    for (let i = 0; i < 10; i++) l.episode.observe(true, false, -3, i, NaN);
    const back = ChannelLearning.fromJSON(JSON.parse(JSON.stringify(l.toJSON())), 'learning "x"');
    expect(back.toJSON()).toEqual(l.toJSON());
    expect(back.resolution).toBe(Infinity);
    expect(back.lastTime).toBeNaN();
    expect(back.episode.active).toBe(true);
    expect(() => ChannelLearning.fromJSON({ ...l.toJSON(), rows: -1 }, 'learning "x"')).toThrow(/learning "x"\.rows is not a valid number/);
    // The sustained statistic: kept, and bounded by the clip of the values it averages.
    l.sustained.push(0.4);
    l.sustainedLast = -1.5;
    const again = ChannelLearning.fromJSON(JSON.parse(JSON.stringify(l.toJSON())), 'learning "x"');
    expect(again.sustainedLast).toBe(-1.5);
    expect(again.sustained.toJSON()).toEqual(l.sustained.toJSON());
    expect(() => ChannelLearning.fromJSON({ ...l.toJSON(), sustained: { ...l.toJSON().sustained!, last: 9 } }, 'learning "x"')).toThrow(/learning "x"\.sustained\.last/);
  });

  it('keeps its season profile and period; refuses a period without a profile or an unknown one', () => {
    const l = new ChannelLearning();
    l.season = new SeasonProfile('Europe/Paris');
    for (let h = 0; h < 48; h++) l.season.add(Date.UTC(2024, 0, 1, h), h % 24);
    l.period = 'daily';
    const json = JSON.parse(JSON.stringify(l.toJSON()));
    const back = ChannelLearning.fromJSON(json, 'learning "x"');
    expect(back.period).toBe('daily');
    expect(back.season?.timezone).toBe('Europe/Paris');
    expect(back.toJSON()).toEqual(l.toJSON());
    // Written before seasons existed: no profile, no period.
    const { season: _s, seasonal: _p, ...older } = json;
    expect(ChannelLearning.fromJSON(older, 'learning "x"').period).toBeNull();
    expect(() => ChannelLearning.fromJSON({ ...json, season: null }, 'learning "x"')).toThrow(/learning "x"\.seasonal is set without a season profile/);
    expect(() => ChannelLearning.fromJSON({ ...json, seasonal: 'hourly' }, 'learning "x"')).toThrow(/must be "daily", "weekly" or null/);
  });
});
