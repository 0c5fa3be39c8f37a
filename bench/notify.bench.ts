/**
 * Load test of POST /notify on loopback: signed SNS notifications (SignatureVersion 1 and 2, the
 * signing certificate served by a loopback server and trusted through configuration), posted by a
 * client in a child process (its own core) with a keep-alive agent.
 *
 * Phases: warm-up; closed loop (N requests, fixed concurrency: the throughput ceiling); open loop
 * at a fixed rate (latency measured from each request's scheduled send time, so a stalled server
 * cannot hide its queueing). By default the real processing queue scores the announced batches in
 * the same process meanwhile (`BENCH_NOTIFY_PROCESSING=0` measures the endpoint alone).
 *
 * Run alone: `npx ts-node --transpile-only bench/notify.bench.ts`.
 */
import { Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { configureApp } from '../src/app.setup';
import { AppConfig } from '../src/config/app-config';
import { ConfigModule } from '../src/config/config.module';
import { BatchSink, EnqueueOutcome, IngestJob } from '../src/ingestion/batch-sink';
import { IngestionModule, IngestionModuleOptions } from '../src/ingestion/ingestion.module';
import { StorageModule } from '../src/storage/storage.module';
import { s3EventMessage, SnsTestSigner } from '../test/support/sns-signer';

export interface NotifyBenchOptions {
  /** Score the announced batches with the real processing queue while the load runs. */
  processing?: boolean;
  /**
   * Distinct raw batches on disk (100 rows each); notifications cycle through them. Default: one per
   * notification, so every notification announces a batch that really has to be scored (a repeated
   * one would be found already absorbed and skipped, which costs far less).
   */
  files?: number;
  warmupRequests?: number;
  closedLoopRequests?: number;
  concurrency?: number;
  openLoopRate?: number;
  openLoopSeconds?: number;
}

interface PhaseResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  /** Open loop: from each request's scheduled time (a late client or a queueing server both count). */
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number };
  /** From when the request was actually written: the server's answer time as seen by the client. */
  latencyFromActualSendMs: { p50: number; p99: number; max: number };
  statuses: Record<string, number>;
}

/** A sink that only counts: the endpoint's own cost, nothing behind it. */
class CountingSink extends BatchSink {
  count = 0;
  enqueue(_job: IngestJob): EnqueueOutcome {
    this.count++;
    return 'queued';
  }
}

const HEADER = 'timestamp,temperature,humidity,pressure,wind_speed';

async function writeBatches(dataDir: string, files: number): Promise<void> {
  const raw = path.join(dataDir, 'raw');
  await fs.mkdir(raw, { recursive: true });
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let f = 0; f < files; f++) {
    const lines = [HEADER];
    const t0 = Date.UTC(2026, 0, 1) + f * 100 * 60_000;
    for (let i = 0; i < 100; i++) {
      const spike = rnd() < 0.02 ? 15 : 0;
      lines.push(
        `${new Date(t0 + i * 60_000).toISOString()},${(20 + 2 * rnd() + spike).toFixed(2)},${(50 + 5 * rnd()).toFixed(2)},` +
          `${(1013 + 3 * rnd()).toFixed(2)},${(4 + 2 * rnd()).toFixed(2)}`,
      );
    }
    await fs.writeFile(path.join(raw, `bench-${f}.csv`), lines.join('\n') + '\n');
  }
}

const CLIENT = `
const http = require('node:http');
const fs = require('node:fs');
const { port, bodiesFile, mode, concurrency, rate } = JSON.parse(process.argv[1]);
const bodies = JSON.parse(fs.readFileSync(bodiesFile, 'utf8'));
const agent = new http.Agent({ keepAlive: true, maxSockets: mode === 'closed' ? concurrency : 256 });
const lat = new Float64Array(bodies.length);
const service = new Float64Array(bodies.length);
const statuses = {};
function send(i, t0) {
  return new Promise((resolve) => {
    const body = bodies[i];
    const sent = process.hrtime.bigint();
    const req = http.request({ host: '127.0.0.1', port, path: '/notify', method: 'POST', agent, headers: {
      'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification',
      'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => { const now = process.hrtime.bigint(); lat[i] = Number(now - t0) / 1e6; service[i] = Number(now - sent) / 1e6; statuses[res.statusCode] = (statuses[res.statusCode] || 0) + 1; resolve(); });
      });
    req.on('error', (e) => { lat[i] = Number(process.hrtime.bigint() - t0) / 1e6; statuses['error:' + e.code] = (statuses['error:' + e.code] || 0) + 1; resolve(); });
    req.end(body);
  });
}
async function closed() {
  let next = 0;
  const loops = [];
  for (let c = 0; c < concurrency; c++) loops.push((async () => { while (next < bodies.length) { const i = next++; await send(i, process.hrtime.bigint()); } })());
  await Promise.all(loops);
}
async function open() {
  const start = process.hrtime.bigint();
  const interval = 1e9 / rate;
  const inflight = [];
  let i = 0;
  while (i < bodies.length) {
    const now = process.hrtime.bigint();
    while (i < bodies.length && start + BigInt(Math.round(i * interval)) <= now) {
      inflight.push(send(i, start + BigInt(Math.round(i * interval))));
      i++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inflight);
}
(async () => {
  const t = process.hrtime.bigint();
  await (mode === 'closed' ? closed() : open());
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  agent.destroy();
  process.stdout.write(JSON.stringify({ lat: Array.from(lat), service: Array.from(service), statuses, seconds }));
})();
`;

/**
 * The client runs in a child process of its own, so that its CPU time is not the server's (and the
 * server's CPU per request can be measured with process.cpuUsage).
 */
async function runClient(
  workDir: string,
  port: number,
  bodies: string[],
  mode: 'closed' | 'open',
  concurrency: number,
  rate: number,
): Promise<PhaseResult & { serverCpuMsPerRequest: number; serverRequestsPerCoreSecond: number }> {
  const bodiesFile = path.join(workDir, `bodies-${mode}-${bodies.length}.json`);
  await fs.writeFile(bodiesFile, JSON.stringify(bodies));
  const cpu0 = process.cpuUsage();
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CLIENT, JSON.stringify({ port, bodiesFile, mode, concurrency, rate })], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`load client exited with ${code}`))));
  });
  const cpu = process.cpuUsage(cpu0);
  const m = JSON.parse(out) as { lat: number[]; service: number[]; statuses: Record<string, number>; seconds: number };
  const sorted = Float64Array.from(m.lat).sort();
  const q = (p: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]);
  const fromSend = Float64Array.from(m.service).sort();
  const qs = (p: number) => round(fromSend[Math.min(fromSend.length - 1, Math.floor(p * fromSend.length))]);
  return {
    requests: bodies.length,
    seconds: round(m.seconds),
    requestsPerSecond: Math.round(bodies.length / m.seconds),
    latencyMs: { p50: q(0.5), p90: q(0.9), p99: q(0.99), p999: q(0.999), max: round(sorted[sorted.length - 1]) },
    latencyFromActualSendMs: { p50: qs(0.5), p99: qs(0.99), max: round(fromSend[fromSend.length - 1]) },
    statuses: m.statuses,
    serverCpuMsPerRequest: round((cpu.user + cpu.system) / 1000 / bodies.length),
    // What one fully available core could serve at that cost: a figure that other load on the
    // machine disturbs far less than the latencies do.
    serverRequestsPerCoreSecond: Math.round((1000 * bodies.length * 1000) / (cpu.user + cpu.system)),
  };
}

const round = (x: number) => Math.round(x * 100) / 100;

interface Scenario {
  name: 'endpoint-alone' | 'while-processing';
  describe: string;
}

export async function run(options: NotifyBenchOptions = {}): Promise<object> {
  const withProcessing = options.processing ?? process.env.BENCH_NOTIFY_PROCESSING !== '0';
  const warmupRequests = options.warmupRequests ?? 1000;
  const closedLoopRequests = options.closedLoopRequests ?? 8000;
  const concurrency = options.concurrency ?? 16;
  const openLoopRate = options.openLoopRate ?? 2000;
  const openLoopSeconds = options.openLoopSeconds ?? 3;
  const files = options.files ?? warmupRequests + closedLoopRequests + openLoopRate * openLoopSeconds;

  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notify-bench-'));
  const signer = await SnsTestSigner.start();
  try {
    await writeBatches(dataDir, files);

    // Every notification names a real batch, with an eTag of its own: each passes ingestion's
    // dedupe and reaches the sink. Signed once (RSA-2048 signing is the slow part), replayed
    // against a fresh app per scenario (fresh dedupe state).
    let n = 0;
    const make = (count: number) =>
      Array.from({ length: count }, () => {
        const i = n++;
        const key = `raw/bench-${i % files}.csv`;
        const env = signer.notification(s3EventMessage([{ key, eTag: `etag-${i}`, sequencer: i.toString(16).padStart(16, '0') }]), {
          signatureVersion: i % 2 ? 2 : 1,
        });
        return JSON.stringify(env);
      });
    const signStart = process.hrtime.bigint();
    const warmup = make(warmupRequests);
    const closedBodies = make(closedLoopRequests);
    const openBodies = make(openLoopRate * openLoopSeconds);
    const signSeconds = Number(process.hrtime.bigint() - signStart) / 1e9;

    const scenarios: Scenario[] = [{ name: 'endpoint-alone', describe: 'a counting sink behind /notify (the endpoint\'s own cost)' }];
    if (withProcessing) {
      scenarios.push({
        name: 'while-processing',
        describe:
          'the real processing queue behind /notify, in the same process, kept busy scoring the announced ' +
          `100-row batches (${files} distinct keys${files < n ? ', re-announced with new eTags' : ', each announced once'})`,
      });
    }

    const results: Record<string, object> = {};
    for (const scenario of scenarios) {
      const config = AppConfig.forTest({
        DATA_DIR: dataDir,
        BASELINE_LOCAL_PATH: path.join(dataDir, `baseline-${scenario.name}.json`),
        SNS_TRUSTED_CERT_URL_PREFIXES: signer.trustedPrefix,
        LOCAL_WATCH: 'false',
        LOG_LEVEL: 'error',
        // As the service runs by default (the test default is 0), unless BENCH_NOTIFY_WORKERS says otherwise.
        PROCESS_WORKERS: process.env.BENCH_NOTIFY_WORKERS ?? String(AppConfig.fromEnv({}).processing.workers),
      });
      let sink: IngestionModuleOptions['sink'] = { useValue: new CountingSink() };
      const imports: IngestionModuleOptions['imports'] = [];
      let processingType: Type<unknown> | undefined;
      if (scenario.name === 'while-processing') {
        const { ProcessingModule } = await import('../src/processing/processing.module');
        const { ProcessingService } = await import('../src/processing/processing.service');
        const { ScheduleModule } = await import('@nestjs/schedule');
        imports.push(ScheduleModule.forRoot(), ProcessingModule);
        sink = { useExisting: ProcessingService };
        processingType = ProcessingService;
      }
      let builder = Test.createTestingModule({
        imports: [ConfigModule.forRoot(config), StorageModule, IngestionModule.register({ imports, sink })],
      });
      if (processingType) {
        // No catch-up scan: it would queue all the files at boot, and the notifications would then
        // find their batch already queued instead of queueing it.
        const { ProcessingTuning } = await import('../src/processing/processing.tuning');
        builder = builder.overrideProvider(ProcessingTuning).useValue(Object.assign(new ProcessingTuning(), { catchUpOnBoot: false, catchUpIntervalMs: 0 }));
      }
      const moduleRef = await builder.compile();
      const app = moduleRef.createNestApplication({ logger: ['error'] });
      try {
        configureApp(app);
        await app.listen(0, '127.0.0.1');
        const port = (app.getHttpServer().address() as { port: number }).port;
        const processing = processingType ? (app.get(processingType) as { counters: object }) : undefined;

        await runClient(dataDir, port, warmup, 'closed', concurrency, 0);
        const loopDelay = monitorEventLoopDelay({ resolution: 5 });
        loopDelay.enable();
        const closedLoop = await runClient(dataDir, port, closedBodies, 'closed', concurrency, 0);
        const openLoop = await runClient(dataDir, port, openBodies, 'open', concurrency, openLoopRate);
        loopDelay.disable();
        const processingCounters = processing ? { ...processing.counters } : undefined;
        // No wait for the backlog (thousands of batches): closing the app drops what is waiting and
        // lets the running batches finish.
        results[scenario.name] = {
          behindTheEndpoint: scenario.describe,
          closedLoop: { concurrency, ...closedLoop },
          openLoop: { targetRate: openLoopRate, ...openLoop },
          serverEventLoopDelayMs: {
            p50: round(loopDelay.percentile(50) / 1e6),
            p99: round(loopDelay.percentile(99) / 1e6),
            max: round(loopDelay.max / 1e6),
          },
          ...(processingCounters ? { processingWhenLoadEnded: processingCounters } : {}),
          meetsTarget:
            closedLoop.requestsPerSecond >= 2000 &&
            openLoop.latencyMs.p99 < 50 &&
            (openLoop.statuses['200'] ?? 0) === openLoop.requests,
        };
      } finally {
        await app.close();
      }
    }

    return {
      bench: 'notify',
      node: process.version,
      cpus: os.cpus().length,
      loadAverageAtEnd: os.loadavg().map(round),
      target: '>= 2000 notifications/s with p99 < 50 ms (open loop at 2000/s; all answered 200)',
      signedMessages: { count: n, signSeconds: round(signSeconds), key: 'RSA-2048', versions: '1 and 2 alternating' },
      certificateFetches: signer.certFetches,
      ...results,
    };
  } finally {
    await signer.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  run()
    .then((r) => console.log(JSON.stringify(r, null, 2)))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
