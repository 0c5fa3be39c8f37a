/**
 * Cost of the baseline state when its ledger is full (20,000 absorbed objects) and the reference
 * window holds 2048 rows: absorb, serialize, parse, atomic local write, cached snapshot.
 *
 *   npx ts-node --transpile-only test/baseline/measure-state.ts
 */
import { rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { BaselineState } from '../../src/baseline/baseline-state';
import { writeFileAtomic } from '../../src/baseline/local-file';
import { contributionOf, gaussianRows, rng } from './contribution-builder';

async function main() {
  const r = rng(1);
  const cols = ['temperature', 'humidity', 'pressure', 'wind_speed'];
  const state = BaselineState.empty({ minCount: 30, includeAnomalies: false });
  const batches = Array.from({ length: 50 }, () => contributionOf(cols, gaussianRows(r, 100, [22, 55, 1013, 10], [1.5, 5, 3, 2.5])));
  let t = performance.now();
  const N = 20_000;
  for (let i = 0; i < N; i++) state.absorb({ key: `raw/sensors_2026${String(i).padStart(8, '0')}.csv`, etag: 'd41d8cd98f00b204e9800998ecf8427e' }, batches[i % 50]);
  const perAbsorb = (performance.now() - t) / N;
  t = performance.now();
  const text = state.serialize();
  const ser = performance.now() - t;
  // Under load: one more fold, then a save; the window's rows and the ledger's entries keep their
  // text between changes, so this is what each local write costs the service's thread.
  const steady: number[] = [];
  for (let i = 0; i < 20; i++) {
    state.absorb({ key: `raw/sensors_next_${i}.csv`, etag: 'd41d8cd98f00b204e9800998ecf8427e' }, batches[i % 50]);
    const t0 = performance.now();
    state.serialize();
    steady.push(performance.now() - t0);
  }
  steady.sort((a, b) => a - b);
  t = performance.now();
  BaselineState.parse(text, { minCount: 30, includeAnomalies: false });
  const parse = performance.now() - t;
  t = performance.now();
  const file = path.join(os.tmpdir(), `baseline-measure-${process.pid}.json`);
  await writeFileAtomic(file, text);
  const write = performance.now() - t;
  rmSync(file);
  t = performance.now();
  for (let i = 0; i < 1000; i++) state.snapshot();
  const snap = (performance.now() - t) / 1000;
  console.log(JSON.stringify({ absorbMsEach: +perAbsorb.toFixed(4), fullStateBytes: text.length, serializeMs: +ser.toFixed(1), serializeAfterFoldMedianMs: +steady[10].toFixed(2), parseMs: +parse.toFixed(1), atomicWriteMs: +write.toFixed(1), snapshotCachedMs: +snap.toFixed(5), windowSize: state.snapshot().window.size }));
}
void main();
