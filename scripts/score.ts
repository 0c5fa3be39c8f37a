/**
 * `npm run score -- <file.csv> [--baseline baseline.json] [--out scored.csv] [--summary summary.json]`
 *
 * Scores one local CSV with the service's own pipeline (CsvScorer: the same parser, detector,
 * writer and summary), without running the service. The baseline is read, never modified. Detection
 * settings come from the same environment variables as the service (CHANNELS, ENTITY_COLUMN,
 * Z_THRESHOLD, BASELINE_MIN_COUNT, IF_TREES, RANDOM_SEED).
 *
 * Exit codes: 0 scored, 1 usage or I/O error, 2 the file is not a usable batch (bad input).
 */
import { createReadStream, existsSync, promises as fs, statSync } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { BaselineState } from '../src/baseline/baseline-state';
import { AppConfig } from '../src/config/app-config';
import { BadInputError } from '../src/processing/bad-input.error';
import { buildSummary } from '../src/processing/batch-summary';
import { CsvScorer } from '../src/processing/csv-scorer';
import { LocalDirectoryStore } from '../src/storage/local-directory.store';

const USAGE = `Usage: npm run score -- <file.csv> [--baseline baseline.json] [--out scored.csv] [--summary summary.json]

Scores every row of <file.csv> for anomalies, as the service does, and writes the scored CSV.

  --baseline <file>  a baseline.json written by the service or the reference app (read only);
                     without it, scoring starts from an empty baseline (cold start)
  --out <file>       where to write the scored CSV (default: <file>_scored.csv next to the input)
  --summary <file>   also write the summary JSON there (it is always printed)
  -h, --help         this help

Settings come from the environment like the service's: CHANNELS, ENTITY_COLUMN, Z_THRESHOLD,
BASELINE_MIN_COUNT, IF_TREES, RANDOM_SEED.`;

class UsageError extends Error {}

interface Args {
  input: string;
  baseline?: string;
  out: string;
  summary?: string;
}

function parseArgs(argv: string[]): Args | 'help' {
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') return 'help';
    const m = /^--(baseline|out|summary)(?:=(.*))?$/.exec(a);
    if (m) {
      const value = m[2] ?? argv[++i];
      if (value === undefined || value === '') throw new UsageError(`--${m[1]} needs a file name`);
      flags[m[1]] = value;
    } else if (a.startsWith('-')) {
      throw new UsageError(`unknown option ${a}`);
    } else {
      positional.push(a);
    }
  }
  if (positional.length !== 1) throw new UsageError(positional.length ? `one input file, got ${positional.length}` : 'no input file given');
  const input = path.resolve(positional[0]);
  const out = path.resolve(flags.out ?? input.replace(/(\.csv)?$/i, '_scored.csv'));
  if (out === input) throw new UsageError('--out must not be the input file');
  return { input, baseline: flags.baseline && path.resolve(flags.baseline), out, summary: flags.summary && path.resolve(flags.summary) };
}

async function main(): Promise<number> {
  let args: Args | 'help';
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`error: ${err.message}\n\n${USAGE}`);
    return 1;
  }
  if (args === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (!existsSync(args.input) || !statSync(args.input).isFile()) {
    console.error(`error: ${args.input} is not a file`);
    return 1;
  }
  const config = AppConfig.fromEnv();
  const options = {
    minCount: config.baseline.minCount,
    includeAnomalies: config.baseline.includeAnomalies,
    halfLife: config.baseline.halfLife,
  };
  let state: BaselineState;
  if (args.baseline) {
    let text: string;
    try {
      text = await fs.readFile(args.baseline, 'utf8');
    } catch (err) {
      console.error(`error: cannot read the baseline ${args.baseline}: ${(err as Error).message}`);
      return 1;
    }
    try {
      state = BaselineState.parse(text, options, args.baseline);
    } catch (err) {
      console.error(`error: ${(err as Error).message}`);
      return 1;
    }
  } else {
    state = BaselineState.empty(options);
  }
  const snapshot = state.snapshot();

  const started = performance.now();
  const scorer = new CsvScorer(snapshot, {
    detection: { zThreshold: config.detection.zThreshold, minCount: config.baseline.minCount, trees: config.detection.trees, seed: config.detection.seed },
    channels: config.detection.channels,
    entityColumn: config.detection.entityColumn,
  });
  const input = createReadStream(args.input, { highWaterMark: 1 << 20 });
  let scoringError: unknown;
  async function* scored(): AsyncGenerator<Buffer> {
    try {
      yield* scorer.run(input);
    } catch (err) {
      scoringError = err;
      throw err;
    }
  }
  // The output appears only once complete (temporary file + rename).
  const store = new LocalDirectoryStore(path.dirname(args.out));
  try {
    await store.put(path.basename(args.out), Readable.from(scored(), { objectMode: false }));
  } catch (err) {
    const cause = scoringError ?? err;
    if (cause instanceof BadInputError) {
      console.error(`error: ${args.input} is not a usable batch: ${cause.message}`);
      return 2;
    }
    console.error(`error: ${(cause as Error).message ?? String(cause)}`);
    return 1;
  } finally {
    input.destroy();
  }
  const summary = buildSummary(scorer.outcome(), snapshot, {
    sourceKey: args.input,
    outputKey: args.out,
    entityColumn: config.detection.entityColumn,
    minCount: config.baseline.minCount,
    processedAt: new Date(),
    durationMs: Math.round(performance.now() - started),
  });
  const json = JSON.stringify(summary, null, 2) + '\n';
  if (args.summary) await fs.writeFile(args.summary, json);
  process.stdout.write(json);
  console.error(
    `Scored ${summary.total_rows} rows of ${path.relative(process.cwd(), args.input) || args.input}: ` +
      `${summary.anomaly_count} anomalies (${(summary.anomaly_rate * 100).toFixed(2)} %)` +
      (summary.unscorable_rows ? `, ${summary.unscorable_rows} unscorable rows` : '') +
      ` -> ${path.relative(process.cwd(), args.out) || args.out}` +
      (state.channels().length === 0 ? ' (empty baseline: cold start)' : ''),
  );
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
