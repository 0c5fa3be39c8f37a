/**
 * Test producer: `npm run producer -- --interval 60 --rows 100 [--count N] [--seed S] [--truth file]`.
 *
 * Every --interval seconds writes a batch of --rows rows to `raw/sensors_<UTC yyyymmddTHHMMSS>.csv`
 * through the project's ObjectStore: the S3 bucket when BUCKET_NAME is set, else DATA_DIR/raw/
 * (where the local watcher picks it up). Batches come from src/producer/batch-generator.ts, the
 * generator the evaluation uses, so a seed reproduces a run exactly. Ctrl+C (or SIGTERM) stops after
 * the write in progress, if any; a second Ctrl+C exits at once.
 */
import { Logger } from '@nestjs/common';
import { appendFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { AppConfig } from '../src/config/app-config';
import { createRng } from '../src/detection/seeded-random';
import { BATCH_PROFILES, BatchProfile, generateBatch, TruthEntry } from '../src/producer/batch-generator';
import { ObjectStore } from '../src/storage/object-store';
import { S3Store } from '../src/storage/s3.store';
import { createObjectStore } from '../src/storage/storage.module';

export interface ProducerOptions {
  /** Seconds between batches; 0 writes them back to back. */
  interval: number;
  rows: number;
  /** Batches to write; undefined runs until stopped. */
  count?: number;
  seed: number;
  /** JSON Lines file that gets one line per batch written: its key and injected anomalies. */
  truthFile?: string;
  profile: BatchProfile;
}

/** One line of the --truth file. `anomalies[].row` is the 0-based data row (header not counted). */
export interface TruthRecord {
  key: string;
  batch: number;
  seed: number;
  rows: number;
  profile: BatchProfile;
  anomalies: TruthEntry[];
}

export class UsageError extends Error {}

export const USAGE = `Usage: npm run producer -- [options]
  --interval <seconds>  time between batches (default 60; 0 = back to back)
  --rows <n>            rows per batch (default 100)
  --count <n>           number of batches, then exit (default: until Ctrl+C)
  --seed <int>          seed of the generator (default: derived from the clock, and logged)
  --truth <file>        append one JSON line per batch: key and injected anomalies
  --profile <name>      ${BATCH_PROFILES.join(' | ')} (default reference)
Writes to s3://$BUCKET_NAME/raw/ when BUCKET_NAME is set, else to $DATA_DIR/raw/ (default ./data).`;

export function parseProducerArgs(argv: string[], defaultSeed = Date.now() % 2 ** 31): ProducerOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        interval: { type: 'string' },
        rows: { type: 'string' },
        count: { type: 'string' },
        seed: { type: 'string' },
        truth: { type: 'string' },
        profile: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const number = (name: string, raw: string | undefined, fallback: number | undefined, min: number, integer: boolean) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
      throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${JSON.stringify(raw)}`);
    }
    return n;
  };
  const profile = (values.profile ?? 'reference') as BatchProfile;
  if (!BATCH_PROFILES.includes(profile)) {
    throw new UsageError(`--profile must be one of ${BATCH_PROFILES.join(', ')}, got ${JSON.stringify(values.profile)}`);
  }
  return {
    interval: number('interval', values.interval, 60, 0, false)!,
    rows: number('rows', values.rows, 100, 1, true)!,
    count: number('count', values.count, undefined, 1, true),
    seed: number('seed', values.seed, defaultSeed, -(2 ** 31), true)!,
    truthFile: values.truth,
    profile,
  };
}

/** `raw/sensors_20260224T001051.csv` for 2026-02-24T00:10:51Z. */
export function batchKey(at: Date): string {
  const stamp = at.toISOString().slice(0, 19).replace(/[-:]/g, '');
  return `raw/sensors_${stamp}.csv`;
}

export interface ProducerDeps {
  store: ObjectStore;
  /** Aborted on Ctrl+C: ends the wait between batches; a write in progress still completes. */
  signal?: AbortSignal;
  now?: () => number;
  logger?: Pick<Logger, 'log'>;
}

/** Writes the batches; resolves with their keys once --count is reached or the signal aborts. */
export async function runProducer(options: ProducerOptions, deps: ProducerDeps): Promise<string[]> {
  const { store, signal } = deps;
  const now = deps.now ?? Date.now;
  const logger = deps.logger ?? new Logger('Producer');
  const rng = createRng(options.seed);
  const written: string[] = [];
  let lastSecond = -Infinity;
  logger.log(
    `Writing ${options.count ?? 'unlimited'} batch(es) of ${options.rows} rows every ${options.interval}s to ` +
      `${store.location}/raw/ (seed ${options.seed}, profile ${options.profile})`,
  );
  for (let batch = 0; options.count === undefined || batch < options.count; batch++) {
    if (signal?.aborted) break;
    // Whole seconds name the file; never reuse the previous batch's second, nor an existing key.
    let second = Math.max(Math.floor(now() / 1000), lastSecond + 1);
    while (await store.head(batchKey(new Date(second * 1000)))) second++;
    lastSecond = second;
    const at = new Date(second * 1000);
    const key = batchKey(at);
    const { csv, truth } = generateBatch({ rows: options.rows, start: at, rng, profile: options.profile, batchIndex: batch });
    await store.put(key, csv, 'text/csv');
    if (options.truthFile) {
      const record: TruthRecord = { key, batch, seed: options.seed, rows: options.rows, profile: options.profile, anomalies: truth };
      await appendFile(options.truthFile, JSON.stringify(record) + '\n');
    }
    written.push(key);
    logger.log(`Wrote ${key} (${options.rows} rows, ${truth.length} injected anomalies)`);
    const last = options.count !== undefined && batch + 1 >= options.count;
    if (!last && options.interval > 0) {
      try {
        await sleep(options.interval * 1000, undefined, { signal });
      } catch (err) {
        if ((err as Error).name !== 'AbortError') throw err;
      }
    }
  }
  logger.log(`Stopped after ${written.length} batch(es)`);
  return written;
}

async function main(): Promise<void> {
  let options: ProducerOptions | 'help';
  try {
    options = parseProducerArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n${USAGE}\n`);
    process.exit(64); // EX_USAGE
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const store = createObjectStore(AppConfig.fromEnv());
  const stop = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (stop.signal.aborted) process.exit(130); // second Ctrl+C: do not wait for the write
    new Logger('Producer').log(`${name}: stopping after the current write (again to exit at once)`);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await runProducer(options, { store, signal: stop.signal });
  } finally {
    if (store instanceof S3Store) store.destroy();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`producer failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
