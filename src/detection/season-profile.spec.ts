import { LocalClock } from './local-clock';
import { deseasonalise, SeasonCurve, SeasonProfile } from './season-profile';
import { createRng } from './seeded-random';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** 2024-01-01 was a Monday. */
const MONDAY = Date.UTC(2024, 0, 1);

function gaussian(rng: () => number): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** Every `stepMs` from MONDAY for `days` days: f(t) + noise. */
function series(days: number, stepMs: number, f: (t: number, i: number) => number, seed = 1): { t: number; x: number }[] {
  const rng = createRng(seed);
  const out: { t: number; x: number }[] = [];
  for (let t = MONDAY, i = 0; t < MONDAY + days * DAY; t += stepMs, i++) out.push({ t, x: f(t, i) + gaussian(rng) });
  return out;
}

function profileOf(points: { t: number; x: number }[], clock = new LocalClock()): SeasonProfile {
  const p = new SeasonProfile(clock.timeZone);
  for (const { t, x } of points) p.add(clock.local(t), x);
  return p;
}

const daily = (t: number) => 10 * Math.sin((2 * Math.PI * (t % DAY)) / DAY);

describe('SeasonProfile', () => {
  it('merges exactly: two halves give the profile of the whole', () => {
    const points = series(9, 5 * 60_000, daily);
    const whole = profileOf(points);
    const merged = profileOf(points.slice(0, 1000)).merge(profileOf(points.slice(1000)));
    for (let i = 0; i < whole.w.length; i++) {
      expect(merged.w[i]).toBeCloseTo(whole.w[i], 9);
      expect(merged.mean[i]).toBeCloseTo(whole.mean[i], 9);
      expect(merged.m2[i] / Math.max(1, whole.m2[i])).toBeCloseTo(whole.m2[i] / Math.max(1, whole.m2[i]), 9);
    }
  });

  it('finds a daily cycle once both even and odd days have been seen, and not before', () => {
    const points = series(6, 5 * 60_000, daily);
    expect(profileOf(points.slice(0, 288)).seasonality('auto').period).toBeNull(); // one day
    const fit = profileOf(points).seasonality('auto');
    expect(fit.period).toBe('daily');
    expect(fit.daily.consistency).toBeGreaterThan(0.95);
    expect(fit.daily.explained).toBeGreaterThan(0.9);
  });

  it('does not take a random walk or white noise for a season', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rng = createRng(seed);
      let level = 0;
      const walk = series(10, 5 * 60_000, () => (level += gaussian(rng) * 0.3), seed);
      expect(profileOf(walk).seasonality('auto').period).toBeNull();
      expect(profileOf(series(10, 5 * 60_000, () => 0, seed)).seasonality('auto').period).toBeNull();
    }
  });

  it('prefers weekly when the weekend differs, daily when every day is alike', () => {
    const weekend = (t: number) => daily(t) * (Math.floor((t - MONDAY) / DAY) % 7 >= 5 ? 0.2 : 1);
    expect(profileOf(series(28, 10 * 60_000, weekend)).seasonality('auto').period).toBe('weekly');
    expect(profileOf(series(28, 10 * 60_000, daily)).seasonality('auto').period).toBe('daily');
  });

  it('obeys the mode: off never, a forced period once its slots are covered', () => {
    const p = profileOf(series(6, 5 * 60_000, () => 0));
    expect(p.seasonality('off').period).toBeNull();
    expect(p.seasonality('daily').period).toBe('daily');
    expect(p.seasonality('weekly').period).toBeNull(); // six days: the odd week's slots are unseen
  });

  it('keeps a season it has through a weaker stretch (hysteresis)', () => {
    // A sine of amplitude 0.71 in unit noise explains a fifth of the variance: too little to start, enough to keep.
    const p = profileOf(series(6, 5 * 60_000, (t) => 0.071 * daily(t)));
    const fit = p.seasonality('auto');
    expect(fit.daily.explained).toBeGreaterThan(0.15);
    expect(fit.daily.explained).toBeLessThan(0.25);
    expect(fit.period).toBeNull();
    expect(p.seasonality('auto', 'daily').period).toBe('daily');
  });

  it('round-trips through JSON and rejects a malformed one', () => {
    const p = profileOf(series(3, HOUR, daily), new LocalClock('Europe/Paris'));
    const back = SeasonProfile.fromJSON(JSON.parse(JSON.stringify(p)), 'season');
    expect(back.timezone).toBe('Europe/Paris');
    expect(Array.from(back.mean)).toEqual(Array.from(p.mean));
    expect(() => SeasonProfile.fromJSON({ ...p.toJSON(), w: [1, 2] }, 'season')).toThrow(/season\.w must be an array of 384/);
    expect(() => SeasonProfile.fromJSON({ ...p.toJSON(), m2: p.toJSON().m2.map(() => -1) }, 'season')).toThrow(/season\.m2\[0\]/);
  });

  it('forgets in time and keeps its shape through a level shift', () => {
    const p = profileOf(series(4, HOUR, daily));
    const w = p.weight;
    p.age(14 * DAY);
    expect(p.weight).toBeCloseTo(w / 2, 9);
    const before = p.data('daily');
    p.shift(100);
    const after = p.data('daily');
    expect(after.center).toBeCloseTo(before.center + 100, 9);
    expect(Array.from(after.deviation)).toEqual(Array.from(before.deviation).map((d) => expect.closeTo(d, 9)));
    expect(Array.from(after.ratio)).toEqual(Array.from(before.ratio).map((r) => expect.closeTo(r, 9)));
  });
});

describe('SeasonCurve', () => {
  it('judges each hour against its own mean and spread, and restores what it deseasonalised', () => {
    // Quiet nights (noise 1), a busy noon (mean +50, noise 10).
    const rng = createRng(7);
    const points: { t: number; x: number }[] = [];
    for (let t = MONDAY; t < MONDAY + 20 * DAY; t += 10 * 60_000) {
      const noon = Math.floor((t % DAY) / HOUR) === 12;
      points.push({ t, x: noon ? 150 + 10 * gaussian(rng) : 100 + gaussian(rng) });
    }
    const profile = profileOf(points);
    expect(profile.seasonality('auto').period).toBe('daily');
    const curve = new SeasonCurve(profile.data('daily'));
    const noon = MONDAY + 30 * DAY + 12.5 * HOUR;
    const night = MONDAY + 30 * DAY + 3.5 * HOUR;
    expect(curve.expected(noon)).toBeGreaterThan(curve.expected(night) + 45);
    // The same 20 above the hour's mean is 2 noon spreads, 20 night spreads: y says so.
    const m = curve.data.center;
    const yNoon = curve.deseasonalised(curve.expected(noon) + 20, noon) - m;
    const yNight = curve.deseasonalised(curve.expected(night) + 20, night) - m;
    expect(yNight / yNoon).toBeGreaterThan(5);
    for (const [x, t] of [[123.4, noon], [97, night]] as const) expect(curve.restored(curve.deseasonalised(x, t), t)).toBeCloseTo(x, 9);
    expect(curve.deseasonalised(42, NaN)).toBe(42);
  });

  it('follows the local clock of its zone, daylight saving included', () => {
    // A peak at 09:00 Paris time, winter and summer.
    const paris = new LocalClock('Europe/Paris');
    const peak = (t: number) => (new Date(paris.local(t)).getUTCHours() === 9 ? 20 : 0);
    const curve = new SeasonCurve(profileOf(series(200, HOUR, peak), paris).data('daily'));
    const base = curve.data.center;
    expect(curve.expected(Date.UTC(2024, 0, 15, 8)) - base).toBeGreaterThan(15); // 09:00 CET
    expect(curve.expected(Date.UTC(2024, 6, 15, 7)) - base).toBeGreaterThan(15); // 09:00 CEST
    expect(curve.expected(Date.UTC(2024, 6, 15, 9)) - base).toBeLessThan(3);
  });

  it('deseasonalises the seasonal channels of a block only', () => {
    const curve = new SeasonCurve(profileOf(series(20, HOUR, daily)).data('daily'));
    const t = MONDAY + 30 * DAY + 6 * HOUR;
    const values = Float64Array.of(5, 5, 5, 5);
    deseasonalise(values, 2, [curve, undefined], [t, NaN]);
    expect(values[0]).toBeCloseTo(curve.deseasonalised(5, t), 12);
    expect(values[0]).toBeLessThan(-3); // 06:00: the sine's top, about +10
    expect([values[1], values[2], values[3]]).toEqual([5, 5, 5]);
  });
});

describe('LocalClock', () => {
  it('reads offsets from the zone and refuses an unknown one', () => {
    const paris = new LocalClock('Europe/Paris');
    expect(paris.local(Date.UTC(2024, 0, 1)) - Date.UTC(2024, 0, 1)).toBe(HOUR);
    expect(paris.local(Date.UTC(2024, 6, 1)) - Date.UTC(2024, 6, 1)).toBe(2 * HOUR);
    expect(new LocalClock().local(123)).toBe(123);
    expect(() => new LocalClock('Mars/Olympus')).toThrow(/unknown time zone "Mars\/Olympus"/);
  });
});
