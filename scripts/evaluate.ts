/**
 * `npm run evaluate`: replays seeded streams of batches through the real pipeline (raw CSV in a
 * local store -> processBatch -> processed CSV, folded into the real BaselineState) and prints
 * row-level precision, recall, F1 and false-positive rates per stream, with the settings the service
 * builds from its default configuration. Also writes the figures to bench/out/evaluate.json.
 *
 *   npm run evaluate -- [--seed 1] [--batches 200] [--rows 100] [--stream name,...] [--ablation]
 *                       [--half-life N] [--drift-half-life N] [--isolation-quantile Q] [--out file]
 *                       [--real DIR [--real-only] [--real-ablation]]
 *
 * `--real DIR` also replays the real labelled development sets found in DIR (`nab-dev/`,
 * `skab-dev/`: see scripts/evaluation/real-evaluation.ts) and writes bench/out/evaluate-real.json;
 * `--real-only` skips the synthetic streams; `--real-ablation` adds the sensor set with the joint
 * test and the forest switched off, and with the joint test from 256 window rows on.
 *
 * Each stream runs with the service's BASELINE_HALF_LIFE (2,000 observations) unless `--half-life N`
 * (0: cumulative statistics) says otherwise; the drift stream is also run with `--drift-half-life`
 * (default 0: cumulative), to show what forgetting changes on a drifting source.
 *
 * `--ablation` also runs each stream on the detector directly (scripts/evaluation/detector-stream.ts)
 * with the isolation forest's flag corroborated (the default rule), off, and counted alone, which is
 * how the combination rule in src/detection/README.md was chosen. The pipeline has no switch for the
 * rule, hence the direct path; its `corroborated` row shows how close the two paths are.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AppConfig } from '../src/config/app-config';
import { SeasonalityMode } from '../src/detection/season-profile';
import { IsolationRule } from '../src/detection/detector';
import { sharedForestFitter } from '../src/detection/forest-fitter';
import { deriveSeed } from '../src/detection/seeded-random';
import { PipelineSettings } from '../src/processing/batch-pipeline';
import { pipelineSettings } from '../src/processing/pipeline-settings';
import { runStreamOnDetector } from './evaluation/detector-stream';
import { runStreamThroughPipeline } from './evaluation/pipeline-stream';
import { StreamResult } from './evaluation/stream-counter';
import { BaselineState } from '../src/baseline/baseline-state';
import { evaluateNab, evaluateSkab, NabResult, RealRun, SkabResult } from './evaluation/real-evaluation';
import { DRIFT_STREAM, SEASONAL_STREAM, STREAMS } from './evaluation/streams';
import { HEATER_EVERY, HEATER_ROWS, replayWithFeedback } from './evaluation/feedback-replay';

interface Args {
  seed: number;
  batches: number;
  rows: number;
  streams: string[];
  ablation: boolean;
  halfLife?: number;
  seasonality?: SeasonalityMode;
  driftHalfLife: number;
  isolationQuantile?: number;
  out: string;
  real?: string;
  realOnly: boolean;
  realAblation: boolean;
  feedback: boolean;
}

const DEFAULT_DRIFT_HALF_LIFE = 0;

const USAGE =
  'usage: npm run evaluate -- [--seed 1] [--batches 200] [--rows 100] [--stream reference,drift,...] [--ablation] ' +
  `[--half-life N (default: the service's, 0: cumulative)] [--drift-half-life N (default ${DEFAULT_DRIFT_HALF_LIFE}: cumulative)] [--isolation-quantile Q] [--out bench/out/evaluate.json] ` +
  '[--real DIR (with nab-dev/ and/or skab-dev/, e.g. ../shared/data) [--real-only] [--real-ablation]] [--seasonality auto|off|daily|weekly] [--feedback]';

function parseArgs(argv: string[]): Args {
  const args: Args = {
    seed: 1,
    batches: 200,
    rows: 100,
    streams: STREAMS.map((s) => s.name),
    ablation: false,
    driftHalfLife: DEFAULT_DRIFT_HALF_LIFE,
    out: 'bench/out/evaluate.json',
    realOnly: false,
    realAblation: false,
    feedback: false,
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
    else if (a === '--half-life') args.halfLife = int(next(), 0);
    else if (a === '--seasonality') {
      const mode = next();
      if (!['auto', 'off', 'daily', 'weekly'].includes(mode)) throw new Error(`--seasonality must be auto, off, daily or weekly, got ${mode}\n${USAGE}`);
      args.seasonality = mode as SeasonalityMode;
    }
    else if (a === '--drift-half-life') args.driftHalfLife = int(next(), 0);
    else if (a === '--out') args.out = next();
    else if (a === '--isolation-quantile') {
      const q = Number(next());
      if (!(q > 0 && q < 1)) throw new Error(`--isolation-quantile must be in (0, 1)`);
      args.isolationQuantile = q;
    } else if (a === '--ablation') args.ablation = true;
    else if (a === '--real') args.real = next();
    else if (a === '--real-only') args.realOnly = true;
    else if (a === '--real-ablation') args.realAblation = true;
    else if (a === '--feedback') args.feedback = true;
    else if (a === '--stream') {
      args.streams = next().split(',').map((s) => s.trim()).filter(Boolean);
      const unknown = args.streams.filter((s) => !STREAMS.some((x) => x.name === s));
      if (unknown.length) throw new Error(`unknown stream(s) ${unknown.join(', ')}; known: ${STREAMS.map((s) => s.name).join(', ')}`);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  if ((args.realOnly || args.realAblation) && !args.real) throw new Error(`--real-only and --real-ablation need --real DIR\n${USAGE}`);
  return args;
}

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(2)}%` : '-');
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '-');

function notes(r: StreamResult): string {
  const out: string[] = [];
  if (r.seasonality !== 'auto') out.push(`SEASONALITY=${r.seasonality}`);
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
  const config = AppConfig.forTest({});
  const base = pipelineSettings(config);
  // The service's half-life unless told otherwise; 0 is cumulative statistics (undefined).
  const serviceHalfLife = BaselineState.optionsFrom(config.baseline).halfLife;
  if (args.halfLife === undefined) args.halfLife = serviceHalfLife;
  else if (args.halfLife === 0) args.halfLife = undefined;
  const settings: PipelineSettings = {
    ...base,
    detection: { ...base.detection, ...(args.isolationQuantile !== undefined ? { isolationQuantile: args.isolationQuantile } : {}) },
  };
  if (args.real) await evaluateReal(args.real, { settings, baseline: { halfLife: args.halfLife, ...(args.seasonality ? { seasonality: args.seasonality } : {}) }, rows: args.rows, progress: (line) => console.error(line) }, args);
  if (args.feedback) {
    const r = await replayWithFeedback(settings, args.batches, args.seed);
    console.log(`\nFeedback (${r.batches} batches of the reference stream; ${HEATER_ROWS} heater rows at 10-11 sd every ${HEATER_EVERY} batches; the first heater batch's flagged heater rows marked normal):`);
    console.log(`  heater rows flagged per heater batch without feedback: ${r.heaterFlagged.without.join(' ')}`);
    console.log(`  heater rows flagged per heater batch with feedback:    ${r.heaterFlagged.with.join(' ')}`);
    console.log(`  heater batches after the feedback until none is flagged: ${r.batchesUntilQuiet ?? 'never'}; F1 on the true anomalies ${f3(r.f1.without)} without, ${f3(r.f1.with)} with`);
    fs.mkdirSync(path.dirname(args.out), { recursive: true });
    fs.writeFileSync(path.join(path.dirname(args.out), 'evaluate-feedback.json'), JSON.stringify(r, null, 2) + '\n');
    return;
  }
  if (args.realOnly) return;
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
    const comparison = args.driftHalfLife > 0 ? args.driftHalfLife : undefined;
    if (spec.name === DRIFT_STREAM && comparison !== args.halfLife) halfLives.push(comparison);
    for (const halfLife of halfLives) {
      const started = performance.now();
      report(await runStreamThroughPipeline(spec, { ...common, halfLife, settings, ...(args.seasonality ? { seasonality: args.seasonality } : {}) }), started);
    }
    if (spec.name === SEASONAL_STREAM && (args.seasonality ?? 'auto') !== 'off') {
      const started = performance.now();
      report(await runStreamThroughPipeline(spec, { ...common, halfLife: args.halfLife, settings, seasonality: 'off' }), started);
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

async function evaluateReal(dir: string, run: RealRun, args: Args): Promise<void> {
  const nabDir = path.join(dir, 'nab-dev');
  const skabDir = path.join(dir, 'skab-dev');
  if (!fs.existsSync(nabDir) && !fs.existsSync(skabDir)) throw new Error(`--real ${dir}: neither nab-dev/ nor skab-dev/ is there`);
  const out: { nab?: NabResult; skab?: SkabResult; skabAblation?: Record<string, SkabResult> } = {};
  if (fs.existsSync(skabDir)) {
    out.skab = await evaluateSkab(skabDir, run);
    if (args.realAblation) {
      const variants: Record<string, Partial<RealRun['settings']['detection']>> = {
        'sustained test off': { sustained: false },
        'joint off': { joint: false },
        'isolation off': { isolation: 'off' },
        'joint and isolation off (per-channel tests only)': { joint: false, isolation: 'off' },
        'joint from 256 window rows': { jointMinRows: 256 },
      };
      out.skabAblation = {};
      for (const [name, v] of Object.entries(variants)) {
        out.skabAblation[name] = await evaluateSkab(skabDir, { ...run, progress: undefined, settings: { ...run.settings, detection: { ...run.settings.detection, ...v } } });
      }
    }
  }
  if (fs.existsSync(nabDir)) out.nab = await evaluateNab(nabDir, run);
  console.log(`\nReal development sets (${dir}), ${args.rows}-row batches, a fresh service per series:`);
  if (out.nab) {
    const n = out.nab;
    const p = (x: { normalized: number }) => x.normalized.toFixed(1);
    console.log(
      `NAB (${n.files} series, ${n.windows} windows): score standard ${p(n.profiles.standard)}, reward_low_FP_rate ${p(n.profiles.reward_low_FP_rate)}, ` +
        `reward_low_FN_rate ${p(n.profiles.reward_low_FN_rate)} (threshold ${n.profiles.standard.threshold.toFixed(4)})`,
    );
    console.log(
      `  rows: precision ${f3(n.rows.precision)}, recall ${f3(n.rows.recall)}, false positives ${n.rows.fpPer1000.toFixed(1)} per 1,000 normal rows; ` +
        `all-normal series ${pct(n.allNormal.share)} flagged (${n.allNormal.flagged}/${n.allNormal.rows})`,
    );
    for (const [detector, scores] of Object.entries(n.published)) {
      console.log(`  published ${detector} on these files: ${Object.entries(scores).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
    }
  }
  const skabLine = (name: string, r: SkabResult) =>
    `${name}: F1 ${f3(r.f1)}, FAR ${pct(r.far)}, MAR ${pct(r.mar)}; normal rows flagged before the anomaly ${pct(r.normalBefore.share)}, after it ${pct(r.normalAfter.share)}`;
  if (out.skab) console.log(skabLine(`SKAB (${out.skab.experiments} experiments)`, out.skab));
  for (const [name, r] of Object.entries(out.skabAblation ?? {})) console.log(`  ${skabLine(name, r)}`);
  const file = path.join(path.dirname(args.out), 'evaluate-real.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ generatedAt: new Date().toISOString(), dir, rows: args.rows, settings: run.settings, baseline: run.baseline, ...out }, null, 2) + '\n');
  console.log(`Figures written to ${file}`);
}

main()
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  })
  // The forest-fitting worker thread the pipeline started would keep the process alive.
  .finally(() => sharedForestFitter.close());
