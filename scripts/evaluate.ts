/**
 * `npm run evaluate`: replays seeded streams of batches through the real pipeline (raw CSV in a
 * local store -> processBatch -> processed CSV, folded into the real BaselineState) and prints
 * row-level precision, recall, F1 and false-positive rates per stream, with the settings the service
 * builds from its default configuration. Also writes the figures to bench/out/evaluate.json.
 *
 *   npm run evaluate -- [--seed 1] [--batches 200] [--rows 100] [--stream name,...] [--ablation]
 *                       [--half-life N] [--drift-half-life N] [--isolation-quantile Q] [--out file]
 *
 * The drift stream is also run with BASELINE_HALF_LIFE = `--drift-half-life` (default 2000
 * observations; 0: not), to show what forgetting changes on a drifting source.
 *
 * `--ablation` also runs each stream on the detector directly (scripts/evaluation/detector-stream.ts)
 * with the isolation forest's flag corroborated (the default rule), off, and counted alone, which is
 * how the combination rule in src/detection/README.md was chosen. The pipeline has no switch for the
 * rule, hence the direct path; its `corroborated` row shows how close the two paths are.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AppConfig } from '../src/config/app-config';
import { IsolationRule } from '../src/detection/detector';
import { sharedForestFitter } from '../src/detection/forest-fitter';
import { deriveSeed } from '../src/detection/seeded-random';
import { PipelineSettings } from '../src/processing/batch-pipeline';
import { pipelineSettings } from '../src/processing/pipeline-settings';
import { runStreamOnDetector } from './evaluation/detector-stream';
import { runStreamThroughPipeline } from './evaluation/pipeline-stream';
import { StreamResult } from './evaluation/stream-counter';
import { DRIFT_STREAM, STREAMS } from './evaluation/streams';

interface Args {
  seed: number;
  batches: number;
  rows: number;
  streams: string[];
  ablation: boolean;
  halfLife?: number;
  driftHalfLife: number;
  isolationQuantile?: number;
  out: string;
}

const DEFAULT_DRIFT_HALF_LIFE = 2000;

const USAGE =
  'usage: npm run evaluate -- [--seed 1] [--batches 200] [--rows 100] [--stream reference,drift,...] [--ablation] ' +
  `[--half-life N] [--drift-half-life N (default ${DEFAULT_DRIFT_HALF_LIFE}, 0: none)] [--isolation-quantile Q] [--out bench/out/evaluate.json]`;

function parseArgs(argv: string[]): Args {
  const args: Args = {
    seed: 1,
    batches: 200,
    rows: 100,
    streams: STREAMS.map((s) => s.name),
    ablation: false,
    driftHalfLife: DEFAULT_DRIFT_HALF_LIFE,
    out: 'bench/out/evaluate.json',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    const int = (v: string, min: number) => {
      const x = Number(v);
      if (!Number.isInteger(x) || x < min) throw new Error(`${a} must be an integer >= ${min}, got ${v}`);
      return x;
    };
    if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (a === '--seed') args.seed = int(next(), 0);
    else if (a === '--batches') args.batches = int(next(), 1);
    else if (a === '--rows') args.rows = int(next(), 1);
    else if (a === '--half-life') args.halfLife = int(next(), 1);
    else if (a === '--drift-half-life') args.driftHalfLife = int(next(), 0);
    else if (a === '--out') args.out = next();
    else if (a === '--isolation-quantile') {
      const q = Number(next());
      if (!(q > 0 && q < 1)) throw new Error(`--isolation-quantile must be in (0, 1)`);
      args.isolationQuantile = q;
    } else if (a === '--ablation') args.ablation = true;
    else if (a === '--stream') {
      args.streams = next().split(',').map((s) => s.trim()).filter(Boolean);
      const unknown = args.streams.filter((s) => !STREAMS.some((x) => x.name === s));
      if (unknown.length) throw new Error(`unknown stream(s) ${unknown.join(', ')}; known: ${STREAMS.map((s) => s.name).join(', ')}`);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  return args;
}

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(2)}%` : '-');
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '-');

function notes(r: StreamResult): string {
  const out: string[] = [];
  if (r.shiftFloodBatches !== undefined) {
    out.push(
      `flood in ${r.shiftFloodBatches} batches, last +${r.shiftLastFloodBatch}; without them F1 ${f3(r.f1AfterRelearn ?? NaN)}, FPR ${pct(r.fprAfterRelearn ?? NaN)}`,
    );
  }
  const kinds = Object.entries(r.byKind);
  if (kinds.length > 1) {
    for (const [kind, k] of kinds) {
      out.push(`${kind} recall ${f3(k.flagged / k.rows)} (${k.flagged}/${k.rows}, if_flag on ${k.isolationFlag})`);
    }
  }
  return out.join('; ');
}

function table(results: StreamResult[]): string {
  const head = ['stream', 'path', 'isolation', 'half-life', 'precision', 'recall', 'F1', 'FPR normal rows', 'FPR all-normal batches', 'TP', 'FP', 'FN', 'refits', 'median ms/batch', 'notes'];
  const rows = results.map((r) => [
    r.stream,
    r.path,
    r.isolation,
    r.halfLife === null ? '-' : String(r.halfLife),
    f3(r.precision),
    f3(r.recall),
    f3(r.f1),
    pct(r.fpr),
    r.allNormalBatches ? `${pct(r.fprAllNormalBatches)} (${r.allNormalBatches} batches)` : '-',
    String(r.truePositives),
    String(r.falsePositives),
    String(r.falseNegatives),
    String(r.refits),
    r.medianBatchMs.toFixed(2),
    notes(r),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // Exactly what the service runs with by default (no environment read: reproducible anywhere).
  const base = pipelineSettings(AppConfig.forTest({}));
  const settings: PipelineSettings = {
    ...base,
    detection: { ...base.detection, ...(args.isolationQuantile !== undefined ? { isolationQuantile: args.isolationQuantile } : {}) },
  };
  const rules: IsolationRule[] = args.ablation ? ['corroborated', 'off', 'alone'] : [];
  const results: StreamResult[] = [];
  const report = (r: StreamResult, started: number) => {
    results.push(r);
    const hl = r.halfLife === null ? '' : `, half-life ${r.halfLife}`;
    console.error(`${r.stream} (${r.path}, ${r.isolation}${hl}): F1 ${f3(r.f1)}, FPR ${pct(r.fpr)} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  };
  for (const [index, spec] of STREAMS.entries()) {
    if (!args.streams.includes(spec.name)) continue;
    const common = { batches: args.batches, rows: args.rows, seed: deriveSeed(args.seed, index) };
    const halfLives: (number | undefined)[] = [args.halfLife];
    if (spec.name === DRIFT_STREAM && args.driftHalfLife > 0 && args.driftHalfLife !== args.halfLife) halfLives.push(args.driftHalfLife);
    for (const halfLife of halfLives) {
      const started = performance.now();
      report(await runStreamThroughPipeline(spec, { ...common, halfLife, settings }), started);
    }
    for (const isolation of rules) {
      const started = performance.now();
      report(runStreamOnDetector(spec, { ...common, halfLife: args.halfLife, settings: settings.detection, isolation, relearnAfter: settings.relearnAfter }), started);
    }
  }
  console.log(
    `\nRow-level results: ${args.batches} batches x ${args.rows} rows per stream, seed ${args.seed}; ` +
      'path pipeline = raw CSV -> processBatch -> processed CSV (median ms/batch end to end), detector = scoring only',
  );
  console.log(table(results));
  console.log('\nTargets: F1 >= 0.95 and FPR <= 0.5% of normal rows on each stream.');
  fs.mkdirSync(path.dirname(args.out), { recursive: true });
  fs.writeFileSync(
    args.out,
    JSON.stringify(
      { generatedAt: new Date().toISOString(), seed: args.seed, batches: args.batches, rows: args.rows, halfLife: args.halfLife ?? null, driftHalfLife: args.driftHalfLife || null, settings, streams: STREAMS, results },
      null,
      2,
    ) + '\n',
  );
  console.log(`Figures written to ${args.out}`);
}

main()
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  })
  // The forest-fitting worker thread the pipeline started would keep the process alive.
  .finally(() => sharedForestFitter.close());
