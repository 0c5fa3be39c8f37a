/**
 * `npm run bench [-- name ...]`: runs the benchmarks under bench/ (each module exports
 * `run(): Promise<object>`), prints their figures and writes them to bench/out/results.json.
 * BENCHMARKS.md records the figures and compares them with the targets.
 */
import '../test/support/loopback-aws-env';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

async function main(): Promise<void> {
  const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const files = readdirSync(__dirname)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
    .sort();
  if (files.length === 0) throw new Error(`No benchmark matches ${only.join(', ')}`);
  const results: Record<string, unknown> = {
    machine: { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
    at: new Date().toISOString(),
  };
  for (const file of files) {
    const name = file.replace(/\.bench\.ts$/, '');
    process.stdout.write(`\n=== ${name}\n`);
    const mod = (await import(path.join(__dirname, file))) as { run: () => Promise<object> };
    const started = Date.now();
    results[name] = await mod.run();
    console.log(JSON.stringify(results[name], null, 2));
    console.log(`(${name}: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  const out = path.join(__dirname, 'out');
  mkdirSync(out, { recursive: true });
  const suffix = only.length ? `-${only.join('-')}` : '';
  writeFileSync(path.join(out, `results${suffix}.json`), JSON.stringify(results, null, 2) + '\n');
  console.log(`\nWritten to bench/out/results${suffix}.json`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
