/**
 * `npm run evaluate`: replays seeded streams of batches through the detector and the baseline and
 * prints row-level precision, recall, F1 and false-positive rates per stream. Also writes the figures
 * to bench/out/evaluate.json.
 *
 *   npm run evaluate -- [--seed 1] [--batches 200] [--rows 100] [--stream name,...] [--ablation] [--half-life N]
 *
 * `--ablation` also runs each stream with the isolation forest off and with its flag counted alone
 * (no corroboration), which is how the combination rule in src/detection/README.md was chosen.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DetectionSettings } from '../src/detection/detection.types';
import { IsolationRule } from '../src/detection/detector';
import { deriveSeed } from '../src/detection/seeded-random';
import { runStream, STREAMS, StreamResult } from './evaluation/run-stream';

interface Args {
  seed: number;
  batches: number;
  rows: number;
  streams: string[];
  ablation: boolean;
  halfLife?: number;
  isolationQuantile?: number;
  out: string;
}

const USAGE = 'usage: npm run evaluate -- [--seed 1] [--batches 200] [--rows 100] [--stream reference,drift,...] [--ablation] [--half-life N] [--isolation-quantile Q] [--out bench/out/evaluate.json]';

function parseArgs(argv: string[]): Args {
  const args: Args = { seed: 1, batches: 200, rows: 100, streams: STREAMS.map((s) => s.name), ablation: false, out: 'bench/out/evaluate.json' };
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
    else if (a === '--out') args.out = next();
    else if (a === '--isolation-quantile') {
      const q = Number(next());
      if (!(q > 0 && q < 1)) throw new Error(`--isolation-quantile must be in (0, 1)`);
      args.isolationQuantile = q;
    }
    else if (a === '--ablation') args.ablation = true;
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

function table(results: StreamResult[]): string {
  const head = ['stream', 'isolation', 'precision', 'recall', 'F1', 'FPR normal rows', 'FPR all-normal batches', 'TP', 'FP', 'FN', 'refits', 'median ms/batch', 'level shift'];
  const rows = results.map((r) => [
    r.stream,
    r.isolation,
    f3(r.precision),
    f3(r.recall),
    f3(r.f1),
    pct(r.fpr),
    r.allNormalBatches ? `${pct(r.fprAllNormalBatches)} (${r.allNormalBatches} batches)` : '-',
    String(r.truePositives),
    String(r.falsePositives),
    String(r.falseNegatives),
    String(r.refits),
    r.medianScoreMs.toFixed(2),
    r.shiftFloodBatches === undefined
      ? ''
      : `flood in ${r.shiftFloodBatches} batches, last +${r.shiftLastFloodBatch}; without them F1 ${f3(r.f1AfterRelearn ?? NaN)}, FPR ${pct(r.fprAfterRelearn ?? NaN)}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const settings: DetectionSettings = { zThreshold: 3, minCount: 30, trees: 100, seed: 42 };
  if (args.isolationQuantile !== undefined) settings.isolationQuantile = args.isolationQuantile;
  const rules: IsolationRule[] = args.ablation ? ['corroborated', 'off', 'alone'] : ['corroborated'];
  const results: StreamResult[] = [];
  STREAMS.forEach((spec, index) => {
    if (!args.streams.includes(spec.name)) return;
    for (const isolation of rules) {
      const started = performance.now();
      const r = runStream(spec, {
        batches: args.batches,
        rows: args.rows,
        seed: deriveSeed(args.seed, index),
        settings,
        isolation,
        halfLife: args.halfLife,
      });
      results.push(r);
      console.error(`${spec.name} (${isolation}): F1 ${f3(r.f1)}, FPR ${pct(r.fpr)} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  });
  console.log(`\nRow-level results: ${args.batches} batches x ${args.rows} rows per stream, seed ${args.seed}` + (args.halfLife ? `, half-life ${args.halfLife}` : ''));
  console.log(table(results));
  console.log('\nTargets: F1 >= 0.95 and FPR <= 0.5% of normal rows on each stream.');
  fs.mkdirSync(path.dirname(args.out), { recursive: true });
  fs.writeFileSync(
    args.out,
    JSON.stringify({ generatedAt: new Date().toISOString(), seed: args.seed, batches: args.batches, rows: args.rows, halfLife: args.halfLife ?? null, settings, streams: STREAMS, results }, null, 2) + '\n',
  );
  console.log(`Figures written to ${args.out}`);
}

try {
  main();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
