/**
 * npm run soak [-- --batches 1000 --rate 200 --no-faults --seed 42 ...]
 *
 * End-to-end soak with faults: the built service and a loopback S3 server as separate
 * processes, a thousand announced batches with duplicates, an S3 outage and a SIGKILL; then checks
 * that nothing was lost or counted twice. Prints a one-screen report, writes it as JSON to
 * bench/out/soak.json, and exits 1 when a check fails. See scripts/soak/run-soak.ts.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseSoakArgs, SoakUsageError } from './soak/soak-options';
import { runSoak } from './soak/run-soak';
import { formatReport } from './soak/soak-report';
import { REPO_ROOT } from './soak/service-process';

// The loopback S3 server needs credentials of some kind; never the instance metadata service.
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.AWS_EC2_METADATA_DISABLED = 'true';

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseSoakArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof SoakUsageError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const result = await runSoak({ ...parsed, log: (line) => process.stderr.write(`${line}\n`) });
  const report = formatReport(result);
  process.stdout.write(`\n${report}\n`);
  if (parsed.outFile) {
    const file = path.resolve(REPO_ROOT, parsed.outFile);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, JSON.stringify({ ...result, report: report.split('\n') }, null, 2) + '\n');
    process.stdout.write(`written to ${path.relative(REPO_ROOT, file)}\n`);
  }
  process.exitCode = result.ok ? 0 : 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`soak failed to run: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
