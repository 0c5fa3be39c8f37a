/** What one soak run does; `npm run soak -- --batches 200 --no-faults` and the e2e spec build these. */
export interface SoakOptions {
  /** Producer batches uploaded to raw/ and announced. */
  batches: number;
  /** Data rows per batch. */
  rows: number;
  /** Notifications posted per second (first deliveries and duplicates alike). */
  rate: number;
  /** Share of batches announced twice (half as an SNS redelivery, half as a repeated S3 event). */
  duplicateShare: number;
  /** S3 outage and SIGKILL + restart of the service; false for a clean throughput run. */
  faults: boolean;
  /** How long the S3 server stays stopped. */
  outageMs: number;
  /** Seeds the batches, the duplicate choice and the shuffle. */
  seed: number;
  /** PROCESS_CONCURRENCY of the service under test. */
  concurrency: number;
  /** Give up waiting for the service to go idle after this long (from the first notification). */
  deadlineMs: number;
  /** Where the JSON report goes; undefined: nowhere. */
  outFile?: string;
  /** The service's main.js to run as is; undefined: dist/main.js, built first when missing or stale. */
  mainJs?: string;
  /** Keep the working directory (bucket data, service logs) for inspection. */
  keep: boolean;
  /** Progress lines while it runs (stderr in the CLI, nothing in the spec). */
  log: (line: string) => void;
}

export const DEFAULT_SOAK_OPTIONS: Omit<SoakOptions, 'log'> = {
  batches: 1000,
  rows: 100,
  rate: 200,
  duplicateShare: 0.1,
  faults: true,
  outageMs: 10_000,
  seed: 42,
  concurrency: 16,
  deadlineMs: 300_000,
  outFile: 'bench/out/soak.json',
  keep: false,
};

export class SoakUsageError extends Error {}

const USAGE = `usage: npm run soak -- [--batches N] [--rows N] [--rate N] [--duplicates SHARE] [--no-faults]
                        [--outage-seconds S] [--seed N] [--concurrency N] [--deadline-seconds S]
                        [--out FILE | --no-out] [--main dist/main.js] [--keep]`;

/** Parses the CLI flags over the defaults; throws SoakUsageError with the usage on anything unknown. */
export function parseSoakArgs(argv: readonly string[]): Omit<SoakOptions, 'log'> {
  const o = { ...DEFAULT_SOAK_OPTIONS };
  const args = [...argv];
  const number = (flag: string, min: number, max: number, integer = true): number => {
    const raw = args.shift();
    const n = Number(raw);
    if (raw === undefined || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
      throw new SoakUsageError(`${flag} needs ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${raw ?? 'nothing'}\n${USAGE}`);
    }
    return n;
  };
  while (args.length > 0) {
    const flag = args.shift()!;
    switch (flag) {
      case '--batches':
        o.batches = number(flag, 1, 100_000);
        break;
      case '--rows':
        o.rows = number(flag, 1, 100_000);
        break;
      case '--rate':
        o.rate = number(flag, 1, 10_000, false);
        break;
      case '--duplicates':
        o.duplicateShare = number(flag, 0, 1, false);
        break;
      case '--no-faults':
        o.faults = false;
        break;
      case '--outage-seconds':
        o.outageMs = number(flag, 0, 600, false) * 1000;
        break;
      case '--seed':
        o.seed = number(flag, 0, 2 ** 31 - 1);
        break;
      case '--concurrency':
        o.concurrency = number(flag, 1, 64);
        break;
      case '--deadline-seconds':
        o.deadlineMs = number(flag, 1, 3600, false) * 1000;
        break;
      case '--out':
        o.outFile = args.shift();
        if (!o.outFile) throw new SoakUsageError(`--out needs a file name\n${USAGE}`);
        break;
      case '--no-out':
        o.outFile = undefined;
        break;
      case '--main':
        o.mainJs = args.shift();
        if (!o.mainJs) throw new SoakUsageError(`--main needs the path of a built main.js\n${USAGE}`);
        break;
      case '--keep':
        o.keep = true;
        break;
      case '--help':
      case '-h':
        throw new SoakUsageError(USAGE);
      default:
        throw new SoakUsageError(`unknown argument ${flag}\n${USAGE}`);
    }
  }
  return o;
}
