/**
 * Where a raw batch's outputs go, in the reference's layout: `raw/<name>.csv` ->
 * `processed/<name>.csv`, `processed/<name>_summary.json`, `processed/<name>_error.json`.
 * `<name>` keeps any sub-folders under the raw prefix (`raw/site-a/x.csv` -> `processed/site-a/x.csv`).
 * The suffix is taken off only as written: `raw/x.CSV` is another object than `raw/x.csv`, and gets
 * outputs of its own (`processed/x.CSV.csv`), never the other's.
 */
export const PROCESSED_PREFIX = 'processed/';

export interface BatchKeys {
  source: string;
  name: string;
  output: string;
  summary: string;
  error: string;
}

export function batchKeys(sourceKey: string, rawPrefix = 'raw/', rawSuffix = '.csv'): BatchKeys {
  let name = sourceKey.startsWith(rawPrefix) ? sourceKey.slice(rawPrefix.length) : sourceKey;
  if (rawSuffix && name.endsWith(rawSuffix)) name = name.slice(0, name.length - rawSuffix.length);
  return {
    source: sourceKey,
    name,
    output: `${PROCESSED_PREFIX}${name}.csv`,
    summary: `${PROCESSED_PREFIX}${name}_summary.json`,
    error: `${PROCESSED_PREFIX}${name}_error.json`,
  };
}

/** True for keys the pipeline takes: under the raw prefix, ending in the suffix, with a name. */
export function isRawBatchKey(key: string, rawPrefix = 'raw/', rawSuffix = '.csv'): boolean {
  return (
    key.startsWith(rawPrefix) &&
    key.toLowerCase().endsWith(rawSuffix.toLowerCase()) &&
    key.length > rawPrefix.length + rawSuffix.length &&
    !key.endsWith('/')
  );
}
