import { runSoak } from '../../scripts/soak/run-soak';
import { DEFAULT_SOAK_OPTIONS } from '../../scripts/soak/soak-options';
import { formatReport } from '../../scripts/soak/soak-report';

/**
 * The short soak: the built service (dist/, rebuilt when older than src/) and a loopback S3 server as
 * separate processes; 60 announced batches, 10 % of them twice, shuffled; a SIGKILL and restart of
 * the service, then a 3 s S3 outage. The service runs with its defaults, so batches are scored on
 * its batch worker threads. Nothing may be lost or counted twice. `npm run soak` is the long
 * version (1,000 batches, 10 s outage). SOAK_MAIN_JS runs another build instead of dist/main.js.
 */
describe('soak: duplicates, an S3 outage and a hard kill', () => {
  it('loses no batch, counts none twice and logs no unexpected error', async () => {
    const lines: string[] = [];
    const result = await runSoak({
      ...DEFAULT_SOAK_OPTIONS,
      batches: 60,
      rate: 200,
      duplicateShare: 0.1,
      faults: true,
      outageMs: 3000,
      seed: 7,
      deadlineMs: 90_000,
      outFile: undefined,
      mainJs: process.env.SOAK_MAIN_JS,
      log: (line) => lines.push(line),
    });
    const report = formatReport(result);
    // The whole report in the failure message, so a red run says which check and why.
    expect({ ok: result.ok, report }).toEqual({ ok: true, report });
    expect(result.checks.map((c) => [c.name, c.pass])).toEqual([
      ['outputs', true],
      ['/anomalies/summary', true],
      ['baseline, /baseline/current before SIGTERM', true],
      ['baseline, state/baseline.json after SIGTERM', true],
      ['logs', true],
    ]);
    expect(result.totals).toMatchObject({ batches: 60, rows: 6000, notifications: 66, duplicates: 6, undelivered: 0 });
    // The faults really happened.
    expect(result.faultMs.outage).toBeGreaterThanOrEqual(3000);
    expect(lines.filter((l) => /SIGKILLed|service restarted|S3 stopped|S3 started again/.test(l))).toHaveLength(4);
  }, 150_000);
});
