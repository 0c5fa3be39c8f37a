/**
 * Reporting at scale (the endpoints stay fast after a year of batches): a loopback S3
 * server holding 50,000 processed batches; measures index build at start-up, its memory, and the
 * latency of both anomaly endpoints.
 */
import { INestApplication } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { configureApp } from '../src/app.setup';
import { AppConfig } from '../src/config/app-config';
import { ConfigModule } from '../src/config/config.module';
import { ReportingIndexService } from '../src/reporting/reporting-index.service';
import { ReportingModule } from '../src/reporting/reporting.module';
import { S3Store } from '../src/storage/s3.store';
import { StorageModule } from '../src/storage/storage.module';
import { S3TestServer } from '../test/support/s3-test-server';

const BATCHES = Number(process.env.BENCH_BATCHES ?? 50_000);
const REQUESTS = 300;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapMiB = () => {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

function scored(i: number): string {
  const rows = ['timestamp,temperature,temperature_zscore,temperature_zscore_flag,if_label,if_score,if_flag,anomaly,anomaly_score,anomaly_reasons'];
  for (let r = 0; r < 20; r++) {
    const a = r % 10 === 3;
    rows.push(`2026-01-01T00:${String(r).padStart(2, '0')}:00.000,${22 + r / 10},${a ? 6.1 : 0.2},${a ? 'True' : 'False'},${a ? -1 : 1},${a ? -0.1 : 0.1},${a},${a ? 'True' : 'False'},${a ? 0.9 : 0.01},${a ? 'temperature z=6.1' : ''}`);
  }
  return rows.join('\n') + `\n# ${i}\n`;
}

async function seed(store: S3Store): Promise<number> {
  const started = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 48 }, async () => {
      while (next < BATCHES) {
        const i = next++;
        const name = `sensors_${String(i).padStart(6, '0')}`;
        const summary = {
          source_key: `raw/${name}.csv`,
          output_key: `processed/${name}.csv`,
          processed_at: new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString(),
          total_rows: 100,
          anomaly_count: i % 7,
          anomaly_rate: (i % 7) / 100,
          baseline_observation_counts: { temperature: i * 100, humidity: i * 100, pressure: i * 100, wind_speed: i * 100 },
        };
        await store.put(`processed/${name}_summary.json`, JSON.stringify(summary), 'application/json');
        await store.put(`processed/${name}.csv`, scored(i), 'text/csv');
      }
    }),
  );
  return (Date.now() - started) / 1000;
}

function percentiles(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p: number) => +s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(2);
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: +s[s.length - 1].toFixed(2) };
}

async function timeRequests(base: string, url: string): Promise<ReturnType<typeof percentiles>> {
  const times: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t = performance.now();
    const res = await fetch(base + url);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
    times.push(performance.now() - t);
  }
  return percentiles(times);
}

export async function run(): Promise<object> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-reporting-'));
  const server = await new S3TestServer({ buckets: ['bench'], storageDir: dir }).start();
  let app: INestApplication | undefined;
  try {
    const store = new S3Store({ bucket: 'bench', region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true });
    const seedSeconds = await seed(store);
    store.destroy();

    const boot = async () => {
      await app?.close();
      const started = performance.now();
      const moduleRef = await Test.createTestingModule({
        imports: [
          ConfigModule.forRoot(AppConfig.forTest({ BUCKET_NAME: 'bench', S3_ENDPOINT: server.endpoint, BASELINE_LOCAL_PATH: path.join(dir, 'baseline.json') })),
          ScheduleModule.forRoot(),
          StorageModule,
          ReportingModule,
        ],
      }).compile();
      app = moduleRef.createNestApplication({ logger: ['warn', 'error'] });
      configureApp(app);
      await app.listen(0, '127.0.0.1');
      await app.get(ReportingIndexService).ready();
      return (performance.now() - started) / 1000;
    };
    // Cold: no saved index, every summary is read. Warm: the saved index from the cold start is used.
    const heapBefore = heapMiB();
    const coldStartupSeconds = await boot();
    const indexHeapMiB = heapMiB() - heapBefore;
    const startupSeconds = await boot();

    const base = await app!.getUrl();
    const summary = await timeRequests(base, '/anomalies/summary');
    const recent = await timeRequests(base, '/anomalies/recent?limit=50');
    const recentMax = await timeRequests(base, '/anomalies/recent?limit=1000');
    return {
      batches: BATCHES,
      objects: BATCHES * 2,
      seedSeconds,
      coldStartupSeconds: +coldStartupSeconds.toFixed(2),
      startupSeconds: +startupSeconds.toFixed(2),
      indexHeapMiB: +indexHeapMiB.toFixed(1),
      requestsEach: REQUESTS,
      summaryMs: summary,
      recentLimit50Ms: recent,
      recentLimit1000Ms: recentMax,
      targets: { startupSeconds: '< 60', p95Ms: '< 50' },
    };
  } finally {
    await app?.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
