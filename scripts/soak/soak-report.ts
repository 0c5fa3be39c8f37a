import { SoakOptions } from './soak-options';

/** Percentiles and the one-screen text of a soak run. Pure. */

export interface Percentiles {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles of `values` (ms); all zero for an empty list. */
export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { n: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  return { n: sorted.length, p50: at(50), p90: at(90), p99: at(99), max: sorted[sorted.length - 1] };
}

export interface SoakCheck {
  name: string;
  pass: boolean;
  detail: string;
}

export interface SoakResult {
  ok: boolean;
  settings: Pick<SoakOptions, 'batches' | 'rows' | 'rate' | 'duplicateShare' | 'faults' | 'outageMs' | 'seed' | 'concurrency'> & {
    baselineIncludeAnomalies: true;
  };
  totals: { batches: number; rows: number; notifications: number; duplicates: number; refusedAttempts: number; undelivered: number };
  /** From the first notification to idle (queue empty, every raw batch summarised). */
  elapsedMs: number;
  batchesPerSecond: number;
  /** Batches over elapsed time minus the fault windows (S3 down, service down). */
  batchesPerSecondOutsideFaults: number;
  faultMs: { outage: number; kill: number };
  /** POST /notify round trip of the successful attempt. */
  notifyResponseMs: Percentiles;
  /**
   * The same for deliveries answered on their first attempt: without the redeliveries that meet the
   * restarted service in a burst while it warms up.
   */
  notifyFirstAttemptResponseMs: Percentiles;
  /** First notification of a batch -> its summary's processed_at (batches summarised after being announced). */
  notificationToSummaryMs: Percentiles;
  /** Batches the catch-up scan summarised before their first notification went out. */
  summarisedBeforeNotification: number;
  checks: SoakCheck[];
  unexpectedLogLines: string[];
  timeline: { atMs: number; what: string }[];
  workDir?: string;
}

const ms = (x: number) => `${Math.round(x)}`;
const pct = (p: Percentiles) => `p50 ${ms(p.p50)}  p90 ${ms(p.p90)}  p99 ${ms(p.p99)}  max ${ms(p.max)} ms (n=${p.n})`;

export function formatReport(r: SoakResult): string {
  const s = r.settings;
  const faults = s.faults ? `S3 outage ${(s.outageMs / 1000).toFixed(1)} s + SIGKILL/restart of the service` : 'none';
  const lines = [
    `soak: ${r.totals.batches} batches x ${s.rows} rows = ${r.totals.rows} rows; seed ${s.seed}; PROCESS_CONCURRENCY ${s.concurrency}; BASELINE_INCLUDE_ANOMALIES=true`,
    `faults: ${faults}`,
    `notifications: ${r.totals.notifications} at ${s.rate}/s (${r.totals.duplicates} duplicates, shuffled); ` +
      `${r.totals.refusedAttempts} attempts refused and retried; ${r.totals.undelivered} never delivered`,
    `elapsed: ${(r.elapsedMs / 1000).toFixed(1)} s from first notification to idle` +
      (s.faults ? ` (S3 down ${(r.faultMs.outage / 1000).toFixed(1)} s, service down ${(r.faultMs.kill / 1000).toFixed(1)} s)` : ''),
    `throughput: ${r.batchesPerSecond.toFixed(1)} batches/s end to end` +
      (s.faults ? `; ${r.batchesPerSecondOutsideFaults.toFixed(1)} batches/s outside the fault windows` : ''),
    `POST /notify:          ${pct(r.notifyResponseMs)}`,
    ...(s.faults ? [`  first attempts only: ${pct(r.notifyFirstAttemptResponseMs)}`] : []),
    `notification->summary: ${pct(r.notificationToSummaryMs)}` +
      (r.summarisedBeforeNotification > 0 ? `; ${r.summarisedBeforeNotification} summarised by catch-up before announced` : ''),
    'checks:',
    ...r.checks.map((c) => `  [${c.pass ? 'PASS' : 'FAIL'}] ${c.name}: ${c.detail}`),
    ...r.unexpectedLogLines.slice(0, 5).map((l) => `    unexpected: ${l.slice(0, 160)}`),
    ...(r.unexpectedLogLines.length > 5 ? [`    ... ${r.unexpectedLogLines.length - 5} more in the JSON report`] : []),
    `result: ${r.ok ? 'PASS' : 'FAIL'}` + (r.workDir ? ` (work dir kept: ${r.workDir})` : ''),
  ];
  return lines.join('\n');
}
