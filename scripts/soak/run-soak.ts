import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunningStats, RunningStatsJson } from '../../src/baseline/running-stats';
import { createRng, Rng } from '../../src/detection/seeded-random';
import { generateBatch } from '../../src/producer/batch-generator';
import { ObjectStore } from '../../src/storage/object-store';
import { S3Store } from '../../src/storage/s3.store';
import { S3TestServer } from '../../test/support/s3-test-server';
import { s3EventMessage, SnsTestSigner, TEST_BUCKET, TEST_TOPIC_ARN } from '../../test/support/sns-signer';
import { ChannelFigures, compareBaseline, expectedBaseline, fourDecimals, relative } from './expected-baseline';
import { HttpClient } from './http-client';
import { FaultWindow, reviewLogs } from './log-review';
import { DeliveryRecord, NotificationSender, PlannedNotification } from './notification-sender';
import { ensureBuilt, freePort, removeDir, ServiceProcess, sleep } from './service-process';
import { SoakOptions } from './soak-options';
import { percentiles, SoakCheck, SoakResult } from './soak-report';

const RAW_PREFIX = 'raw/';
const REGION = 'eu-west-1';
/** Where in the stream of notifications the faults start (share of notifications posted). */
const KILL_AT = 0.35;
const OUTAGE_AT = 0.65;

interface Batch {
  key: string;
  name: string;
  csv: string;
  etag: string;
}

interface Summary {
  source_key: string;
  processed_at: string;
  total_rows: number;
  anomaly_count: number;
}

/**
 * The soak: a fauxqs S3 server with on-disk storage and the built service as separate
 * processes on loopback; N producer batches uploaded to raw/; a signed SNS notification for each,
 * shuffled, a share of them twice, posted at `rate`; the service SIGKILLed and restarted, then S3
 * stopped for `outageMs` and started again on the same data and port; then, once the service is
 * idle, the checks: outputs, baseline against a sequential computation, reporting totals, logs.
 *
 * The service runs with BASELINE_INCLUDE_ANOMALIES=true and BASELINE_HALF_LIFE=0: with the
 * defaults, which values a batch contributes, and how much the older ones still weigh, depend on
 * the order batches were processed, and an out-of-order run cannot match a sequential one value
 * for value. Folding every value, cumulatively, makes the final baseline order-independent (up to
 * float rounding), so it must equal the statistics of all values of all files.
 */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log;
  const t0 = Date.now();
  const timeline: { atMs: number; what: string }[] = [];
  const mark = (what: string) => {
    timeline.push({ atMs: Date.now() - t0, what });
    log(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}`);
  };
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'anomaly-soak-'));
  const s3 = new S3TestServer({ buckets: [TEST_BUCKET], storageDir: path.join(workDir, 's3') });
  const http = new HttpClient();
  let signer: SnsTestSigner | undefined;
  let service: ServiceProcess | undefined;
  try {
    const mainJs = options.mainJs ? path.resolve(options.mainJs) : (ensureBuilt(log), undefined);
    await s3.start();
    signer = await SnsTestSigner.start();
    const store = new S3Store({ bucket: TEST_BUCKET, region: REGION, endpoint: s3.endpoint, forcePathStyle: true });
    const port = await freePort();
    service = new ServiceProcess(
      {
        BUCKET_NAME: TEST_BUCKET,
        S3_ENDPOINT: s3.endpoint,
        AWS_REGION: REGION,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_EC2_METADATA_DISABLED: 'true',
        DATA_DIR: path.join(workDir, 'data'),
        BASELINE_LOCAL_PATH: path.join(workDir, 'baseline.json'),
        BASELINE_INCLUDE_ANOMALIES: 'true',
        BASELINE_HALF_LIFE: '0',
        // Short, so that flushes happen during the outage and after the restart.
        BASELINE_FLUSH_INTERVAL: '2',
        PROCESS_CONCURRENCY: String(options.concurrency),
        SNS_TOPIC_ARNS: TEST_TOPIC_ARN,
        SNS_TRUSTED_CERT_URL_PREFIXES: signer.trustedPrefix,
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'log',
      },
      port,
      path.join(workDir, 'service.log'),
      http,
      mainJs,
    );
    await service.start();
    mark(`service up on ${service.origin}, S3 on ${s3.endpoint}`);

    const rng = createRng(options.seed);
    const batches = await uploadBatches(store, options, rng);
    mark(`${batches.length} batches uploaded to raw/`);
    const plan = planNotifications(batches, signer, options.duplicateShare, rng);
    mark(`${plan.length} notifications signed (${plan.length - batches.length} duplicates)`);

    // ---- the timed part: notifications, faults, until idle
    const windows: FaultWindow[] = [];
    let faults: Promise<void> = Promise.resolve();
    const killIndex = Math.floor(KILL_AT * plan.length);
    const outageIndex = Math.floor(OUTAGE_AT * plan.length);
    const svc = service;
    const sender = new NotificationSender(http, {
      url: `${service.origin}/notify`,
      rate: options.rate,
      giveUpAt: Date.now() + options.deadlineMs,
      onSent: (i) => {
        if (!options.faults) return;
        if (i === killIndex) {
          faults = faults.then(async () => {
            const from = Date.now();
            await svc.kill();
            mark(`service SIGKILLed after ${i + 1} notifications`);
            await svc.start();
            windows.push({ kind: 'kill', from, to: Date.now() });
            mark('service restarted');
          });
        }
        if (i === outageIndex) {
          // Chained after the restart: an outage during start-up is another scenario (the baseline
          // would load from the local copy and the catch-up scan would wait for its next tick).
          faults = faults.then(async () => {
            const from = Date.now();
            await s3.stop();
            mark(`S3 stopped (after ${i + 1} notifications posted)`);
            await sleep(options.outageMs);
            await s3.start();
            windows.push({ kind: 'outage', from, to: Date.now() });
            mark(`S3 started again on the same port and data (${s3.endpoint})`);
          });
        }
      },
    });
    const started = Date.now();
    mark('notifications start');
    const deliveries = await sender.sendAll(plan);
    mark('notifications done');
    await faults;
    const idle = await waitIdle(http, service, store, batches.length, started + options.deadlineMs);
    const idleAt = Date.now();
    mark(idle ? 'service idle: queue empty, every raw batch summarised' : 'deadline passed before the service was idle');

    // ---- checks (the service still running: /anomalies/summary, /baseline/current)
    const checks: SoakCheck[] = [];
    const { check: outputs, summaries } = await checkOutputs(store, batches, options.rows);
    checks.push(outputs);
    checks.push(await checkReporting(http, service, summaries));
    const expected = figures(expectedBaseline(batches.map((b) => b.csv)));
    checks.push(await checkLiveBaseline(http, service, expected));
    const code = await service.terminate();
    mark(`service stopped with SIGTERM (exit ${code ?? 'by signal'})`);
    checks.push(await checkStoredBaseline(store, expected, batches));
    const review = reviewLogs(service.lines, windows);
    checks.push({
      name: 'logs',
      pass: review.unexpected.length === 0,
      detail:
        `${review.unexpected.length} unexpected error line(s); ${review.errors} error line(s) in all` +
        Object.entries(review.expected).map(([name, n]) => `, ${n} expected: ${name}`).join('') +
        `; ${review.warnings} warning(s) of ${review.lines} lines`,
    });

    const elapsedMs = idleAt - started;
    const outageMs = windows.filter((w) => w.kind === 'outage').reduce((a, w) => a + w.to - w.from, 0);
    const killMs = windows.filter((w) => w.kind === 'kill').reduce((a, w) => a + w.to - w.from, 0);
    const latency = latencies(deliveries, summaries);
    const result: SoakResult = {
      ok: idle && checks.every((c) => c.pass),
      settings: {
        batches: options.batches,
        rows: options.rows,
        rate: options.rate,
        duplicateShare: options.duplicateShare,
        faults: options.faults,
        outageMs: options.outageMs,
        seed: options.seed,
        concurrency: options.concurrency,
        baselineIncludeAnomalies: true,
      },
      totals: {
        batches: batches.length,
        rows: batches.length * options.rows,
        notifications: plan.length,
        duplicates: plan.length - batches.length,
        refusedAttempts: deliveries.reduce((a, d) => a + d.attempts - 1, 0),
        undelivered: deliveries.filter((d) => d.deliveredAt === undefined).length,
      },
      elapsedMs,
      batchesPerSecond: batches.length / (elapsedMs / 1000),
      batchesPerSecondOutsideFaults: batches.length / (Math.max(1, elapsedMs - outageMs - killMs) / 1000),
      faultMs: { outage: outageMs, kill: killMs },
      notifyResponseMs: percentiles(deliveries.flatMap((d) => (d.responseMs === undefined ? [] : [d.responseMs]))),
      notifyFirstAttemptResponseMs: percentiles(deliveries.flatMap((d) => (d.responseMs === undefined || d.attempts > 1 ? [] : [d.responseMs]))),
      notificationToSummaryMs: percentiles(latency.after),
      summarisedBeforeNotification: latency.before,
      checks: idle ? checks : [{ name: 'idle', pass: false, detail: `not idle within ${options.deadlineMs / 1000} s` }, ...checks],
      unexpectedLogLines: review.unexpected.map((l) => `run ${l.run} ${l.level ?? l.stream}: ${l.context ? `[${l.context}] ` : ''}${l.message}`),
      timeline,
      ...(options.keep ? { workDir } : {}),
    };
    return result;
  } finally {
    await service?.close().catch(() => undefined);
    await s3.stop().catch(() => undefined);
    await signer?.close().catch(() => undefined);
    http.close();
    if (!options.keep) await removeDir(workDir);
  }
}


/** Generates the producer's batches (seeded) and uploads them, 16 at a time; ETags from a listing. */
async function uploadBatches(store: ObjectStore, options: SoakOptions, rng: Rng): Promise<Batch[]> {
  const start = Date.UTC(2026, 0, 1);
  const width = String(options.batches - 1).length;
  const batches: Batch[] = [];
  for (let i = 0; i < options.batches; i++) {
    const { csv } = generateBatch({ rows: options.rows, start: new Date(start + i * options.rows * 60_000), rng, batchIndex: i });
    const name = `soak_${options.seed}_${String(i).padStart(width, '0')}`;
    batches.push({ key: `${RAW_PREFIX}${name}.csv`, name, csv, etag: '' });
  }
  let next = 0;
  const uploader = async () => {
    while (next < batches.length) {
      const b = batches[next++];
      await store.put(b.key, b.csv, 'text/csv');
    }
  };
  await Promise.all(Array.from({ length: 16 }, uploader));
  const etags = new Map<string, string>();
  for await (const info of store.list(RAW_PREFIX)) etags.set(info.key, info.etag);
  for (const b of batches) b.etag = etags.get(b.key) ?? '';
  return batches;
}

/**
 * One signed notification per batch, plus duplicates of `share` of them: alternately the same
 * envelope again (an SNS redelivery: same MessageId) and a new envelope for the same object (S3
 * announcing it twice: new MessageId, same key and ETag). Shuffled, so a duplicate may come first.
 */
function planNotifications(batches: Batch[], signer: SnsTestSigner, share: number, rng: Rng): PlannedNotification[] {
  const envelope = (b: Batch) => {
    const messageId = randomUUID();
    const message = s3EventMessage([{ key: b.key, eTag: b.etag, sequencer: messageId.replace(/-/g, '').slice(0, 16).toUpperCase() }]);
    return { messageId, body: JSON.stringify(signer.notification(message, { messageId })) };
  };
  const plan: PlannedNotification[] = batches.map((b) => ({ key: b.key, ...envelope(b), kind: 'first' }));
  const twice = shuffle([...batches.keys()], rng).slice(0, Math.round(share * batches.length));
  twice.forEach((i, j) => {
    const first = plan[i];
    plan.push(j % 2 === 0 ? { ...first, kind: 'sns-redelivery' } : { key: first.key, ...envelope(batches[i]), kind: 's3-duplicate-event' });
  });
  shuffle(plan, rng);
  // After the shuffle the earlier of the two deliveries is the first one.
  const seen = new Map<string, PlannedNotification>();
  for (const n of plan) {
    const earlier = seen.get(n.key);
    if (!earlier) {
      seen.set(n.key, n);
      if (n.kind !== 'first') {
        const kind = n.kind;
        const later = plan.find((m) => m !== n && m.key === n.key)!;
        n.kind = 'first';
        later.kind = kind;
      }
    }
  }
  return plan;
}

function shuffle<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** Idle: the queue is empty and every raw batch has its summary. False when `deadline` passed first. */
async function waitIdle(http: HttpClient, service: ServiceProcess, store: ObjectStore, batches: number, deadline: number): Promise<boolean> {
  for (;;) {
    let depth = Number.NaN;
    try {
      const metrics = await http.request('GET', `${service.origin}/metrics`);
      depth = Number(/^anomaly_queue_depth(?:\{[^}]*\})?\s+(\S+)/m.exec(metrics.body)?.[1]);
    } catch {
      // not answering right now: not idle
    }
    if (depth === 0) {
      let summaries = 0;
      for await (const info of store.list('processed/')) if (info.key.endsWith('_summary.json')) summaries++;
      if (summaries >= batches) return true;
    }
    if (Date.now() > deadline) return false;
    await sleep(250);
  }
}

/** Maps `fn` over `items` with `limit` in flight. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

/**
 * Every raw batch has exactly one scored CSV and one summary under processed/, no error report, no
 * stray outputs, and its scored CSV and summary count as many data rows as the input.
 */
async function checkOutputs(
  store: ObjectStore,
  batches: Batch[],
  rows: number,
): Promise<{ check: SoakCheck; summaries: Map<string, Summary> }> {
  const problems: string[] = [];
  const present = new Set<string>();
  for await (const info of store.list('processed/')) present.add(info.key);
  const expectedKeys = new Set<string>();
  for (const b of batches) {
    for (const key of [`processed/${b.name}.csv`, `processed/${b.name}_summary.json`]) {
      expectedKeys.add(key);
      if (!present.has(key)) problems.push(`${key} missing`);
    }
  }
  for (const key of present) if (!expectedKeys.has(key)) problems.push(`unexpected ${key}`);
  const summaries = new Map<string, Summary>();
  await mapLimit(batches, 32, async (b) => {
    const csv = await store.getText(`processed/${b.name}.csv`);
    if (csv !== null) {
      const dataRows = csv.split('\n').filter((l) => l !== '').length - 1;
      if (dataRows !== rows) problems.push(`processed/${b.name}.csv has ${dataRows} data rows, input ${rows}`);
    }
    const text = await store.getText(`processed/${b.name}_summary.json`);
    if (text !== null) {
      const s = JSON.parse(text) as Summary;
      summaries.set(b.key, s);
      if (s.source_key !== b.key) problems.push(`processed/${b.name}_summary.json names ${s.source_key}`);
      if (s.total_rows !== rows) problems.push(`processed/${b.name}_summary.json total_rows ${s.total_rows}, input ${rows}`);
    }
  });
  return {
    check: {
      name: 'outputs',
      pass: problems.length === 0,
      detail:
        problems.length === 0
          ? `${batches.length} raw batches, each with one scored CSV of ${rows} data rows and one summary; nothing else in processed/`
          : `${problems.length} problem(s): ${problems.slice(0, 5).join('; ')}`,
    },
    summaries,
  };
}

/** /anomalies/summary totals equal the sums over the summaries in the bucket. */
async function checkReporting(http: HttpClient, service: ServiceProcess, summaries: Map<string, Summary>): Promise<SoakCheck> {
  const expected = { files: summaries.size, rows: 0, anomalies: 0 };
  for (const s of summaries.values()) {
    expected.rows += s.total_rows;
    expected.anomalies += s.anomaly_count;
  }
  const got = await http.getJson<{ files_processed?: number; total_rows_scored?: number; total_anomalies?: number }>(
    `${service.origin}/anomalies/summary`,
  );
  const pass = got.files_processed === expected.files && got.total_rows_scored === expected.rows && got.total_anomalies === expected.anomalies;
  return {
    name: '/anomalies/summary',
    pass,
    detail:
      `files ${got.files_processed}, rows ${got.total_rows_scored}, anomalies ${got.total_anomalies}` +
      (pass ? ' = the sums over the summaries' : `; the summaries sum to ${expected.files}, ${expected.rows}, ${expected.anomalies}`),
  };
}

function figures(stats: Record<string, RunningStats | RunningStatsJson>): Record<string, ChannelFigures> {
  const out: Record<string, ChannelFigures> = {};
  for (const [channel, s] of Object.entries(stats)) out[channel] = { count: s.count, mean: s.mean, std: s.std };
  return out;
}

/** /baseline/current (in memory, before shutdown) against the sequential expectation, to its 4 decimals. */
async function checkLiveBaseline(http: HttpClient, service: ServiceProcess, expected: Record<string, ChannelFigures>): Promise<SoakCheck> {
  const body = await http.getJson<{ channels: Record<string, { observations: number; mean: number; std: number }> }>(
    `${service.origin}/baseline/current`,
  );
  const actual: Record<string, ChannelFigures> = {};
  for (const [channel, c] of Object.entries(body.channels)) actual[channel] = { count: c.observations, mean: c.mean, std: c.std };
  const cmp = compareBaseline(expected, actual, fourDecimals);
  return {
    name: 'baseline, /baseline/current before SIGTERM',
    pass: cmp.ok,
    detail: cmp.ok
      ? `counts equal; mean and std equal to the endpoint's 4 decimals (${Object.keys(expected).length} channels)`
      : cmp.problems.slice(0, 4).join('; '),
  };
}

/**
 * state/baseline.json after the SIGTERM flush against the sequential expectation: counts exactly,
 * mean and std to 1e-9 relative; and its ledger holds every batch once, with one fold per batch.
 */
async function checkStoredBaseline(store: ObjectStore, expected: Record<string, ChannelFigures>, batches: Batch[]): Promise<SoakCheck> {
  const text = await store.getText('state/baseline.json');
  if (text === null) return { name: 'baseline, state/baseline.json after SIGTERM', pass: false, detail: 'state/baseline.json missing' };
  const json = JSON.parse(text) as Record<string, unknown> & {
    _state?: { sequence?: number; ledger?: { entries?: [string, string][] } };
  };
  const actual: Record<string, ChannelFigures> = {};
  for (const [key, value] of Object.entries(json)) {
    if (key === 'last_updated' || key === '_state') continue;
    const v = value as RunningStatsJson;
    actual[key] = { count: v.count, mean: v.mean, std: v.std };
  }
  const cmp = compareBaseline(expected, actual, relative(1e-9));
  const problems = [...cmp.problems];
  const sequence = json._state?.sequence;
  if (sequence !== batches.length) problems.push(`_state.sequence ${sequence}, expected one fold per batch (${batches.length})`);
  const ledger = json._state?.ledger?.entries ?? [];
  const inLedger = new Map(ledger.map(([k, e]) => [k, e]));
  const missing = batches.filter((b) => inLedger.get(b.key) !== b.etag).length;
  if (missing > 0 || ledger.length !== batches.length) {
    problems.push(`ledger has ${ledger.length} entries; ${missing} batch(es) missing or with another ETag`);
  }
  return {
    name: 'baseline, state/baseline.json after SIGTERM',
    pass: problems.length === 0,
    detail:
      problems.length === 0
        ? `counts equal (${Object.values(expected)[0]?.count ?? 0} per channel), mean/std within 1e-9 relative ` +
          `(worst ${cmp.worstRelative.toExponential(1)}); ${sequence} folds, ledger = the ${batches.length} batches`
        : problems.slice(0, 4).join('; '),
  };
}

/** Per batch: its first notification's post -> its summary's processed_at, when that came after. */
function latencies(deliveries: DeliveryRecord[], summaries: Map<string, Summary>): { after: number[]; before: number; } {
  const firstSent = new Map<string, number>();
  for (const d of deliveries) firstSent.set(d.key, Math.min(firstSent.get(d.key) ?? Infinity, d.firstSentAt));
  const after: number[] = [];
  let before = 0;
  for (const [key, sent] of firstSent) {
    const s = summaries.get(key);
    if (!s) continue;
    const latency = Date.parse(s.processed_at) - sent;
    if (latency >= 0) after.push(latency);
    else before++;
  }
  return { after, before };
}
