import { LEVEL_SHIFT_AT } from '../../src/producer/batch-generator';
import { replayStream } from './stream-replay';

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('baseline rules on the generated evaluation streams', () => {
  it('level shift: re-learns 2 h (120 rows a minute apart) after the jump, after which false flags stop and spikes are still caught', () => {
    const figures = replayStream('level-shift');
    const events = figures.flatMap((f) => f.events.map((e) => ({ batch: f.batch, e })));
    expect(events.map((x) => x.e)).toEqual(['level-shift pressure']);
    expect(events[0].batch).toBe(LEVEL_SHIFT_AT + 1);
    // Until then every shifted value is flagged: the incident could still end.
    expect(figures[LEVEL_SHIFT_AT].falseFlags.pressure).toBeGreaterThan(90);
    const before = figures.slice(30, LEVEL_SHIFT_AT);
    const after = figures.slice(events[0].batch + 1);
    // Before the shift and after the re-learn: false flags at the Gaussian rate (~0.03 % per value).
    expect(sum(before.map((f) => f.falseFlags.pressure))).toBeLessThanOrEqual(5);
    expect(sum(after.map((f) => f.falseFlags.pressure))).toBeLessThanOrEqual(6);
    expect(Math.max(...after.map((f) => f.falseFlags.pressure))).toBeLessThanOrEqual(2);
    expect(sum(after.map((f) => f.caught.pressure)) / sum(after.map((f) => f.injected.pressure))).toBeGreaterThan(0.9);
  });

  it('no re-learn on streams without a shift', () => {
    for (const profile of ['reference', 'drift'] as const) {
      expect(replayStream(profile).flatMap((f) => f.events)).toEqual([]);
    }
  });

  it('drift: a half-life follows the moving mean that cumulative statistics lag behind', () => {
    const lag = (halfLife?: number) => {
      const last = replayStream('drift', { halfLife }).at(-1)!;
      return 22 + 1.99 * 1.5 - last.means.temperature;
    };
    const cumulative = lag(undefined);
    const forgetting = lag(500);
    expect(cumulative).toBeGreaterThan(1.2);
    expect(forgetting).toBeLessThan(0.3);
  });
});
