import { createRng } from '../detection/seeded-random';
import {
  anomalyCount,
  BATCH_PROFILES,
  CORRELATED_MARGINALS,
  CORRELATION_BREAK_MAX_Z,
  CORRELATION_BREAK_SHARE,
  generateBatch,
  LEVEL_SHIFT_AT,
} from './batch-generator';

const START = new Date('2026-02-24T00:10:51.000Z');

function parse(csv: string): { header: string[]; rows: string[][] } {
  const lines = csv.trimEnd().split('\n');
  return { header: lines[0].split(','), rows: lines.slice(1).map((l) => l.split(',')) };
}

function column(rows: string[][], i: number): number[] {
  return rows.map((r) => Number(r[i]));
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) * (b - m), 0) / xs.length);
};
const correlation = (xs: number[], ys: number[]) => {
  const mx = mean(xs);
  const my = mean(ys);
  return xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0) / xs.length / (std(xs) * std(ys));
};

describe('generateBatch', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = generateBatch({ rows: 100, start: START, rng: createRng(7) });
    const b = generateBatch({ rows: 100, start: START, rng: createRng(7) });
    const c = generateBatch({ rows: 100, start: START, rng: createRng(8) });
    expect(a).toEqual(b);
    expect(a.csv).not.toEqual(c.csv);
  });

  it('writes the reference format: header, one row a minute, 2 decimals at most', () => {
    const { csv } = generateBatch({ rows: 100, start: START, rng: createRng(1) });
    const { header, rows } = parse(csv);
    expect(header).toEqual(['timestamp', 'temperature', 'humidity', 'pressure', 'wind_speed']);
    expect(rows).toHaveLength(100);
    expect(rows[0][0]).toBe('2026-02-24T00:10:51.000');
    expect(rows[1][0]).toBe('2026-02-24T00:11:51.000');
    expect(rows[99][0]).toBe('2026-02-24T01:49:51.000');
    for (const r of rows) {
      expect(r).toHaveLength(5);
      for (const v of r.slice(1)) expect(v).toMatch(/^-?\d+(\.\d{1,2})?$/);
    }
    expect(csv.endsWith('\n')).toBe(true);
  });

  it('injects max(1, rows/20) anomalies on distinct rows, 5-8 std out', () => {
    expect(anomalyCount(10)).toBe(1);
    expect(anomalyCount(100)).toBe(5);
    const stds: Record<string, number> = { temperature: 1.5, humidity: 5, pressure: 3, wind_speed: 2.5 };
    const means: Record<string, number> = { temperature: 22, humidity: 55, pressure: 1013, wind_speed: 10 };
    let far = 0;
    let total = 0;
    for (let seed = 0; seed < 40; seed++) {
      const { csv, truth } = generateBatch({ rows: 100, start: START, rng: createRng(seed) });
      const { header, rows } = parse(csv);
      expect(truth).toHaveLength(5);
      expect(new Set(truth.map((t) => t.row)).size).toBe(5);
      for (const t of truth) {
        const v = Number(rows[t.row][header.indexOf(t.channel)]);
        const z = Math.abs(v - means[t.channel]) / stds[t.channel];
        total++;
        if (z > 3) far++;
      }
    }
    // The push is added to a normal draw, so a few land a bit closer than 5 std; almost none within 3.
    expect(far / total).toBeGreaterThan(0.97);
  });

  it('matches the reference distribution on normal rows', () => {
    const { csv, truth } = generateBatch({ rows: 20000, start: START, rng: createRng(3), injectAnomalies: false });
    expect(truth).toEqual([]);
    const { rows } = parse(csv);
    expect(mean(column(rows, 1))).toBeCloseTo(22, 1);
    expect(std(column(rows, 1))).toBeCloseTo(1.5, 1);
    expect(mean(column(rows, 3))).toBeCloseTo(1013, 0);
    expect(std(column(rows, 2))).toBeGreaterThan(4.8);
    expect(std(column(rows, 2))).toBeLessThan(5.2);
    expect(Math.min(...column(rows, 4))).toBeGreaterThanOrEqual(0);
  });

  it('quiet-fifth leaves every fifth batch without anomalies', () => {
    const rng = createRng(5);
    const counts = [0, 1, 2, 3, 4, 9].map(
      (batchIndex) => generateBatch({ rows: 100, start: START, rng, profile: 'quiet-fifth', batchIndex }).truth.length,
    );
    expect(counts).toEqual([5, 5, 5, 5, 0, 0]);
  });

  it('level-shift moves the pressure mean from batch 100 on', () => {
    const at = (batchIndex: number) => {
      const { csv } = generateBatch({ rows: 2000, start: START, rng: createRng(9), profile: 'level-shift', batchIndex, injectAnomalies: false });
      return mean(column(parse(csv).rows, 3));
    };
    expect(at(LEVEL_SHIFT_AT - 1)).toBeCloseTo(1013, 0);
    expect(at(LEVEL_SHIFT_AT)).toBeCloseTo(1031, 0);
  });

  it('drift moves the means slowly', () => {
    const at = (batchIndex: number) => {
      const { csv } = generateBatch({ rows: 2000, start: START, rng: createRng(9), profile: 'drift', batchIndex, injectAnomalies: false });
      return mean(column(parse(csv).rows, 1));
    };
    expect(at(200) - at(0)).toBeGreaterThan(2.5);
    expect(at(200) - at(0)).toBeLessThan(3.5);
  });

  it('server metrics: bounded cpu, positive latency, integer requests, near-constant disk', () => {
    const { csv, truth } = generateBatch({ rows: 5000, start: START, rng: createRng(11), profile: 'server', injectAnomalies: false });
    expect(truth).toEqual([]);
    const { header, rows } = parse(csv);
    expect(header).toEqual(['timestamp', 'host', 'cpu_pct', 'latency_ms', 'requests', 'disk_used_pct']);
    const cpu = column(rows, 2);
    expect(Math.min(...cpu)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...cpu)).toBeLessThanOrEqual(100);
    expect(Math.min(...column(rows, 3))).toBeGreaterThan(0);
    expect(column(rows, 4).every(Number.isInteger)).toBe(true);
    const disk = column(rows, 5);
    expect(new Set(disk).size).toBeLessThan(60);
    expect(std(disk)).toBeLessThan(0.2);
  });

  describe('correlated', () => {
    const marginalZ = (channel: keyof typeof CORRELATED_MARGINALS, x: number) =>
      (x - CORRELATED_MARGINALS[channel].mean) / CORRELATED_MARGINALS[channel].std;

    it('channels move together, with the announced marginals', () => {
      const { csv, truth } = generateBatch({ rows: 20000, start: START, rng: createRng(12), profile: 'correlated', injectAnomalies: false });
      expect(truth).toEqual([]);
      const { header, rows } = parse(csv);
      expect(header).toEqual(['timestamp', 'host', 'requests_per_s', 'cpu_pct', 'latency_ms', 'memory_pct']);
      const [requests, cpu, latency, memory] = [2, 3, 4, 5].map((i) => column(rows, i));
      expect(correlation(requests, cpu)).toBeGreaterThan(0.95);
      expect(correlation(cpu, latency)).toBeGreaterThan(0.85);
      expect(Math.abs(correlation(requests, memory))).toBeLessThan(0.05);
      for (const [name, xs] of [['requests_per_s', requests], ['cpu_pct', cpu], ['latency_ms', latency], ['memory_pct', memory]] as const) {
        expect(Math.abs(mean(xs) - CORRELATED_MARGINALS[name].mean)).toBeLessThan(0.05 * CORRELATED_MARGINALS[name].std);
        expect(std(xs) / CORRELATED_MARGINALS[name].std).toBeGreaterThan(0.97);
        expect(std(xs) / CORRELATED_MARGINALS[name].std).toBeLessThan(1.03);
      }
    });

    it('injects spikes far out and correlation breaks that stay inside every marginal range', () => {
      const kinds = { spike: 0, 'correlation-break': 0 };
      let farSpikes = 0;
      let lowest = Infinity;
      let highestPct = -Infinity;
      for (let seed = 0; seed < 60; seed++) {
        const { csv, truth } = generateBatch({ rows: 100, start: START, rng: createRng(seed), profile: 'correlated', batchIndex: seed });
        expect(truth).toHaveLength(5);
        const { header, rows } = parse(csv);
        const value = (row: number, channel: string) => Number(rows[row][header.indexOf(channel)]);
        for (const t of truth) {
          kinds[t.kind!]++;
          if (t.kind === 'spike') {
            if (Math.abs(marginalZ(t.channel as keyof typeof CORRELATED_MARGINALS, value(t.row, t.channel))) > 3) farSpikes++;
            continue;
          }
          expect(t.channel).toBe('cpu_pct');
          for (const ch of Object.keys(CORRELATED_MARGINALS) as (keyof typeof CORRELATED_MARGINALS)[]) {
            expect(Math.abs(marginalZ(ch, value(t.row, ch)))).toBeLessThanOrEqual(CORRELATION_BREAK_MAX_Z + 1e-3);
          }
          // What the requests explain (cpu = 10 + 0.2 requests, noise std 2) is far below the cpu seen.
          expect(value(t.row, 'cpu_pct') - (10 + 0.2 * value(t.row, 'requests_per_s'))).toBeGreaterThan(5 * 2);
        }
        lowest = Math.min(lowest, ...[2, 3, 4, 5].flatMap((i) => column(rows, i)));
        highestPct = Math.max(highestPct, ...column(rows, 3), ...column(rows, 5));
      }
      // Spikes stay physical: no negative rate or latency, no percentage above 100.
      expect(lowest).toBeGreaterThanOrEqual(0);
      expect(highestPct).toBeLessThanOrEqual(100);
      const total = kinds.spike + kinds['correlation-break'];
      expect(kinds['correlation-break'] / total).toBeGreaterThan(CORRELATION_BREAK_SHARE - 0.1);
      expect(kinds['correlation-break'] / total).toBeLessThan(CORRELATION_BREAK_SHARE + 0.1);
      expect(farSpikes / kinds.spike).toBeGreaterThan(0.97);
    });
  });

  it('rejects bad arguments', () => {
    expect(() => generateBatch({ rows: -1, start: START, rng: createRng(1) })).toThrow(/rows/);
    expect(() => generateBatch({ rows: 1, start: START, rng: createRng(1), profile: 'x' as never })).toThrow(/profile/);
  });

  it('every profile produces the announced truth count', () => {
    for (const profile of BATCH_PROFILES) {
      const { truth } = generateBatch({ rows: 100, start: START, rng: createRng(2), profile, batchIndex: 1 });
      expect(truth).toHaveLength(5);
    }
  });
});
