import { compareBaseline, expectedBaseline, fourDecimals, relative } from './expected-baseline';
import { reviewLogs } from './log-review';
import { ServiceLogLine } from './service-process';
import { parseSoakArgs, SoakUsageError } from './soak-options';
import { percentiles } from './soak-report';

describe('soak pure parts', () => {
  it('percentiles by nearest rank', () => {
    const p = percentiles(Array.from({ length: 100 }, (_, i) => 100 - i));
    expect(p).toEqual({ n: 100, p50: 50, p90: 90, p99: 99, max: 100 });
    expect(percentiles([])).toEqual({ n: 0, p50: 0, p90: 0, p99: 0, max: 0 });
  });

  it('expects the statistics of every value of every file, and compares within the tolerance', () => {
    const exp = expectedBaseline(['timestamp,a,b\nt,1,10\nt,3,10\n', 'timestamp,a,b\nt,5,13\n']);
    expect(exp.a.count).toBe(3);
    expect(exp.a.mean).toBe(3);
    expect(exp.b.std).toBeCloseTo(Math.sqrt(2), 12);
    const e = { a: { count: 3, mean: 3, std: 1.5 } };
    expect(compareBaseline(e, { a: { count: 3, mean: 3 * (1 + 5e-10), std: 1.5 } }, relative(1e-9)).ok).toBe(true);
    expect(compareBaseline(e, { a: { count: 3, mean: 3 * (1 + 2e-9), std: 1.5 } }, relative(1e-9)).problems).toEqual([
      `a: mean ${3 * (1 + 2e-9)}, expected 3`,
    ]);
    expect(compareBaseline(e, { a: { count: 4, mean: 3, std: 1.5 } }, relative(1e-9)).problems).toEqual(['a: count 4, expected 3']);
    expect(compareBaseline(e, { a: { count: 3, mean: 3.00004, std: 1.5 }, z: { count: 1, mean: 0, std: 0 } }, fourDecimals).problems).toEqual([
      'z: not expected',
    ]);
  });

  it('expects a failed flush only inside the outage window; never a batch given up on, never a non-JSON line', () => {
    const line = (at: number, level: string | undefined, message: string): ServiceLogLine => ({ run: 1, stream: 'stdout', at, level, message });
    const flush = 'Flush of the baseline to state/baseline.json failed (1 in a row; ...): Storage put failed';
    const review = reviewLogs(
      [
        line(1500, 'error', flush),
        line(60_000, 'error', flush),
        line(1600, 'error', 'raw/a.csv: failed after 5 attempt(s): Storage get failed -> processed/a_error.json'),
        line(1700, undefined, 'TypeError: boom'),
        line(1800, 'warn', 'raw/b.csv: attempt 1 failed'),
      ],
      [{ kind: 'outage', from: 1000, to: 2000 }],
    );
    expect(review.expected).toEqual({ 'baseline flush failed during the S3 outage': 1 });
    expect(review.unexpected.map((l) => l.at)).toEqual([60_000, 1600, 1700]);
    expect(review.warnings).toBe(1);
  });

  it('parses the flags and refuses unknown or out-of-range ones', () => {
    expect(parseSoakArgs(['--batches', '50', '--rate', '100', '--no-faults', '--seed', '3'])).toMatchObject({
      batches: 50,
      rate: 100,
      faults: false,
      seed: 3,
    });
    expect(parseSoakArgs([])).toMatchObject({ batches: 1000, rate: 200, faults: true, duplicateShare: 0.1, outageMs: 10_000 });
    expect(() => parseSoakArgs(['--batches', '0'])).toThrow(SoakUsageError);
    expect(() => parseSoakArgs(['--frobnicate'])).toThrow(/unknown argument --frobnicate/);
  });
});
