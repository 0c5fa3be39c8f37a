import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BaselineState } from '../../src/baseline/baseline-state';

const ROOT = path.resolve(__dirname, '../..');
const SAMPLE = path.join(__dirname, 'fixtures', 'sensors_20260224T001051.csv');

function score(...args: string[]) {
  const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'scripts/score.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'score-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run score', () => {
  it('prints its usage with --help, and refuses bad arguments clearly', () => {
    const help = score('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: npm run score -- <file.csv>/);
    const flag = score(SAMPLE, '--frobnicate');
    expect(flag.code).toBe(1);
    expect(flag.stderr).toMatch(/error: unknown option --frobnicate/);
    expect(flag.stderr).toMatch(/Usage:/);
  });

  it('scores a file against a given baseline and prints the summary', () => {
    // The reference app's baseline.json shape: {channel: {count, mean, M2, std}, last_updated}.
    const ref: Record<string, unknown> = { last_updated: '2026-02-24T00:00:00' };
    for (const [ch, mean, std] of [['temperature', 22, 1.5], ['humidity', 55, 5], ['pressure', 1013, 3], ['wind_speed', 10, 2.5]] as const) {
      ref[ch] = { count: 5000, mean, M2: std * std * 5000, std };
    }
    const baseline = path.join(dir, 'baseline.json');
    writeFileSync(baseline, JSON.stringify(ref));
    expect(() => BaselineState.parse(readFileSync(baseline, 'utf8'), { minCount: 30, includeAnomalies: false })).not.toThrow();
    const out = path.join(dir, 'scored.csv');
    const r = score(SAMPLE, '--baseline', baseline, '--out', out, '--summary', path.join(dir, 's.json'));
    expect(r.stderr).toMatch(/Scored 100 rows/);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ total_rows: 100, baseline_observation_counts: { temperature: 5000 } });
    expect(summary.anomaly_count).toBeGreaterThanOrEqual(3);
    expect(JSON.parse(readFileSync(path.join(dir, 's.json'), 'utf8'))).toEqual(summary);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(101);
    expect(lines[0]).toMatch(/^timestamp,temperature,humidity,pressure,wind_speed,temperature_zscore,/);
  });

  it('exits 1 on a missing file, 2 on a file that is not a usable batch, writing nothing', () => {
    const missing = score(path.join(dir, 'nope.csv'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.csv is not a file/);
    const bad = path.join(dir, 'bad.csv');
    writeFileSync(bad, 'a,b\n1,2\n3\n');
    const r = score(bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a usable batch: line 3: 1 fields where the header has 2/);
    expect(existsSync(path.join(dir, 'bad_scored.csv'))).toBe(false);
  });
});
