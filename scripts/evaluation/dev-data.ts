/**
 * Where the real labelled development sets are: `DEV_DATA_DIR`, else `shared/data` beside the
 * repository (their licences keep them out of it), and how a spec that needs them behaves when they
 * are not there: skipped with a message, except under CI=true, where they must be there and their
 * absence fails.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

export function devDataDir(): string {
  return process.env.DEV_DATA_DIR ?? path.resolve(__dirname, '../../../shared/data');
}

/** `describe(name, body)` when `dir` exists; a failing test under CI=true; a skipped block otherwise. */
export function describeWithData(name: string, dir: string, body: () => void): void {
  if (existsSync(dir)) {
    describe(name, body);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it(`needs the development data at ${dir} (CI=true)`, () => {
        throw new Error(`development data not found at ${dir}; CI must run these checks`);
      });
    });
  } else {
    describe.skip(`${name} (skipped: development data not found at ${dir}; set DEV_DATA_DIR)`, body);
  }
}
