/**
 * Which columns of a CSV are channels (scored, learned), decided from the header and a sample of rows.
 *
 * The rule, in order:
 * 1. With a `CHANNELS` allowlist, the channels are exactly the allowlisted columns present in the
 *    header, in header order (allowlisted names missing from the header are reported in `missing`).
 *    The allowlist overrides everything below: the operator knows the data.
 * 2. Otherwise a column is a channel when all of these hold:
 *    - it is numeric: at least one non-empty cell in the sample, and at least 95 % of the non-empty
 *      cells parse as finite decimal numbers (`parseNumber`). Empty cells and the usual missing
 *      markers (NaN, NA, N/A, null, none, -) do not count either way, so a column with a few gaps or
 *      a stray bad cell stays a channel (the bad cell is scored as missing);
 *    - it is not timestamp-like: by name (time, timestamp, date, datetime, ts, epoch, created,
 *      updated, or ending in `_at`/`_time`/`_date`/`_ts`) or by value (most cells parse as ISO-8601
 *      dates). Epoch seconds look numeric, so the name is what catches them;
 *    - it is not identifier-like: by name (id, uuid, guid, key, index, host, hostname, name, or ending
 *      in `_id`/`_uuid`/`_key`/`_name`/`Id`, or pandas' `Unnamed: 0` index), or it is the
 *      `ENTITY_COLUMN`. Integer ids look numeric, so again the name decides.
 */

export interface ChannelInferenceOptions {
  /** The CHANNELS allowlist; empty or undefined means infer. */
  channels?: readonly string[];
  /** The ENTITY_COLUMN; never a channel. */
  entityColumn?: string;
}

export type ExclusionReason = 'timestamp' | 'identifier' | 'entity' | 'not numeric' | 'empty' | 'not allowlisted';

export interface ChannelInference {
  /** Channel names, in header order. */
  channels: string[];
  /** Header index of each channel. */
  indices: number[];
  /** Index of the entity column in the header, -1 when none. */
  entityIndex: number;
  /** Index of the first timestamp-like column (by name or values) that is not a channel, -1 when none. */
  timeIndex: number;
  excluded: { column: string; reason: ExclusionReason }[];
  /** Allowlisted channels absent from the header. */
  missing: string[];
}

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const MISSING_RE = /^(?:|nan|na|n\/a|null|none|-)$/i;
const ISO_DATE_RE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const TIME_NAME_RE = /^(?:time|timestamp|date|datetime|ts|epoch|created|updated|time_stamp)$|_(?:at|time|date|ts|timestamp)$|^(?:time|date|timestamp)_/i;
const ID_NAME_RE = /^(?:id|uuid|guid|key|index|idx|host|hostname|name|unnamed:.*)$|_(?:id|uuid|guid|key|name)$/i;
const CAMEL_ID_RE = /[a-z]Id$/;
const NUMERIC_SHARE = 0.95;

/** A finite number, or NaN for anything else (empty, missing markers, text, hex, Infinity). */
export function parseNumber(cell: string | undefined): number {
  if (cell === undefined) return NaN;
  const s = cell.trim();
  if (!NUMBER_RE.test(s)) return NaN;
  const x = Number(s);
  return Number.isFinite(x) ? x : NaN;
}

export function isMissingCell(cell: string | undefined): boolean {
  return cell === undefined || MISSING_RE.test(cell.trim());
}

export function isTimestampName(name: string): boolean {
  return TIME_NAME_RE.test(name.trim());
}

export function isIdentifierName(name: string): boolean {
  const n = name.trim();
  return ID_NAME_RE.test(n) || CAMEL_ID_RE.test(n);
}

export function inferChannels(
  header: readonly string[],
  sample: readonly (readonly string[])[],
  options: ChannelInferenceOptions = {},
): ChannelInference {
  const entity = options.entityColumn?.trim() || undefined;
  const entityIndex = entity === undefined ? -1 : header.findIndex((h) => h.trim() === entity);
  const allow = (options.channels ?? []).map((c) => c.trim()).filter(Boolean);
  const result: ChannelInference = { channels: [], indices: [], entityIndex, timeIndex: -1, excluded: [], missing: [] };

  if (allow.length > 0) {
    const wanted = new Set(allow);
    header.forEach((h, i) => {
      const name = h.trim();
      if (wanted.has(name) && i !== entityIndex && !result.channels.includes(name)) {
        result.channels.push(name);
        result.indices.push(i);
      } else {
        result.excluded.push({ column: name, reason: i === entityIndex ? 'entity' : 'not allowlisted' });
      }
    });
    result.missing = allow.filter((c) => !result.channels.includes(c));
    result.timeIndex = header.findIndex((h, i) => i !== entityIndex && !result.indices.includes(i) && (isTimestampName(h) || exclusion(h.trim(), i, entityIndex, sample) === 'timestamp'));
    return result;
  }

  header.forEach((h, i) => {
    const name = h.trim();
    const reason = exclusion(name, i, entityIndex, sample);
    if (reason) {
      result.excluded.push({ column: name, reason });
      if (reason === 'timestamp' && result.timeIndex < 0) result.timeIndex = i;
    } else {
      result.channels.push(name);
      result.indices.push(i);
    }
  });
  return result;
}

function exclusion(
  name: string,
  index: number,
  entityIndex: number,
  sample: readonly (readonly string[])[],
): ExclusionReason | undefined {
  if (index === entityIndex) return 'entity';
  if (isTimestampName(name)) return 'timestamp';
  if (isIdentifierName(name)) return 'identifier';
  let present = 0;
  let numeric = 0;
  let dates = 0;
  for (const row of sample) {
    const cell = row[index];
    if (isMissingCell(cell)) continue;
    present++;
    if (!Number.isNaN(parseNumber(cell))) numeric++;
    else if (ISO_DATE_RE.test((cell as string).trim())) dates++;
  }
  if (present === 0) return 'empty';
  if (dates / present >= 0.5) return 'timestamp';
  if (numeric / present < NUMERIC_SHARE) return 'not numeric';
  return undefined;
}
