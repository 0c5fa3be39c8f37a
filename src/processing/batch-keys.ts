import { createHash } from 'node:crypto';

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
  /**
   * The outputs' file names would pass MAX_NAME_BYTES, which file systems refuse: the batch is
   * refused, and its error report goes to a shortened name (`error` then is that name).
   */
  tooLong: boolean;
}

/** The longest file name (one path segment) local file systems take. */
export const MAX_NAME_BYTES = 255;
/** A local write goes through a temporary name this much longer (`.tmp-` and 12 hex digits). */
const TEMPORARY_SUFFIX_BYTES = 17;

export function batchKeys(sourceKey: string, rawPrefix = 'raw/', rawSuffix = '.csv'): BatchKeys {
  let name = sourceKey.startsWith(rawPrefix) ? sourceKey.slice(rawPrefix.length) : sourceKey;
  if (rawSuffix && name.endsWith(rawSuffix)) name = name.slice(0, name.length - rawSuffix.length);
  const summary = `${PROCESSED_PREFIX}${name}_summary.json`;
  const tooLong = Buffer.byteLength(summary.slice(summary.lastIndexOf('/') + 1)) + TEMPORARY_SUFFIX_BYTES > MAX_NAME_BYTES;
  return {
    source: sourceKey,
    name,
    output: `${PROCESSED_PREFIX}${name}.csv`,
    summary,
    error: tooLong ? shortenedErrorKey(name) : `${PROCESSED_PREFIX}${name}_error.json`,
    tooLong,
  };
}

/** `processed/<folder>/<the name cut short>~<hash of the whole name>_error.json`, at most MAX_NAME_BYTES per segment. */
function shortenedErrorKey(name: string): string {
  const slash = name.lastIndexOf('/');
  const folder = name.slice(0, slash + 1);
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 12);
  let base = name.slice(slash + 1);
  const room = MAX_NAME_BYTES - TEMPORARY_SUFFIX_BYTES - Buffer.byteLength(`~${hash}_error.json`);
  while (Buffer.byteLength(base) > room) base = base.slice(0, -1);
  return `${PROCESSED_PREFIX}${folder}${base}~${hash}_error.json`;
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
