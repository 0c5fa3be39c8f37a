/**
 * An operator's feedback as it is stored (`state/feedback/<id>.json`) and replayed: the checks a
 * request must pass beyond its field types, and the same checks for a stored record read back.
 * Pure.
 */
import { randomBytes } from 'node:crypto';
import { parseTimestamp } from '../processing/timestamp-parser';
import { FeedbackRecordDto, FeedbackRequestDto, MAX_FEEDBACK_ROWS, Verdict, VERDICTS } from './dto/feedback.dto';

export const FEEDBACK_PREFIX = 'state/feedback/';
/** A period longer than this is refused: a typo (a year for a day) would silence a channel for good. */
export const MAX_PERIOD_MS = 92 * 24 * 3600_000;

export type FeedbackRecord = FeedbackRecordDto;

export class FeedbackError extends Error {
  override readonly name = 'FeedbackError';
}

export function feedbackKey(id: string): string {
  return `${FEEDBACK_PREFIX}${id}.json`;
}

/** Sortable by time of receipt, unique: `20260224T101502123Z-3f9a1c2b`. */
export function newFeedbackId(now: Date): string {
  return `${now.toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`;
}

/**
 * The record of a request, checked: what each verdict needs (`normal`: a file and rows or a
 * period; `anomaly` / `ignore`: a period, or a file and rows), periods that parse and run forward.
 * `source_file` is left as given; the service resolves it.
 */
export function recordOf(req: FeedbackRequestDto, id: string, now: Date): FeedbackRecord {
  const record: FeedbackRecord = { id, received_at: now.toISOString(), verdict: req.verdict };
  if (req.source_file !== undefined) record.source_file = req.source_file;
  if (req.rows !== undefined) record.rows = [...new Set(req.rows)].sort((a, b) => a - b);
  if (req.note !== undefined) record.note = req.note;
  if ((req.from === undefined) !== (req.to === undefined)) throw new FeedbackError('from and to go together');
  if (req.from !== undefined) {
    const [from, to] = period(req.from, req.to!);
    record.from = new Date(from).toISOString();
    record.to = new Date(to).toISOString();
  }
  if (record.rows && record.source_file === undefined) throw new FeedbackError('rows need the source_file they belong to');
  if (req.verdict === 'normal') {
    if (record.source_file === undefined) throw new FeedbackError('verdict "normal" needs source_file, with rows or from/to');
    if (!record.rows && record.from === undefined) throw new FeedbackError('verdict "normal" needs rows or from/to within source_file');
  } else if (!record.rows && record.from === undefined) {
    throw new FeedbackError(`verdict "${req.verdict}" needs a period (from/to) or source_file with rows`);
  }
  return record;
}

/** A stored record, read back: the same shape and checks (throws FeedbackError naming what is wrong). */
export function parseRecord(text: string, key: string): FeedbackRecord {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (err) {
    throw new FeedbackError(`${key} is not valid JSON: ${(err as Error).message}`);
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new FeedbackError(`${key} must hold an object`);
  const r = o as Record<string, unknown>;
  const str = (name: string, optional = true): string | undefined => {
    const v = r[name];
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'string') throw new FeedbackError(`${key}: ${name} must be a string`);
    return v;
  };
  const id = str('id', false)!;
  if (feedbackKey(id) !== key) throw new FeedbackError(`${key}: id ${JSON.stringify(id)} does not match its key`);
  const verdict = str('verdict', false) as Verdict;
  if (!VERDICTS.includes(verdict)) throw new FeedbackError(`${key}: verdict must be one of ${VERDICTS.join(', ')}`);
  const record: FeedbackRecord = { id, received_at: str('received_at', false)!, verdict };
  const source = str('source_file');
  if (source !== undefined) record.source_file = source;
  if (r.rows !== undefined) {
    const rows = r.rows;
    if (!Array.isArray(rows) || rows.length === 0 || rows.length > MAX_FEEDBACK_ROWS || !rows.every((x) => Number.isInteger(x) && x >= 0)) {
      throw new FeedbackError(`${key}: rows must be 1 to ${MAX_FEEDBACK_ROWS} integers >= 0`);
    }
    record.rows = rows as number[];
  }
  const from = str('from');
  const to = str('to');
  if ((from === undefined) !== (to === undefined)) throw new FeedbackError(`${key}: from and to go together`);
  if (from !== undefined) {
    period(from, to!);
    record.from = from;
    record.to = to;
  }
  const note = str('note');
  if (note !== undefined) record.note = note;
  if (record.verdict === 'normal' ? !record.source_file || (!record.rows && !record.from) : !record.from) {
    throw new FeedbackError(`${key}: a "${record.verdict}" record needs ${record.verdict === 'normal' ? 'source_file with rows or from/to' : 'from/to'}`);
  }
  return record;
}

/** [from, to] in ms from two time strings (ISO 8601 or epoch seconds/ms, as rows may carry). */
export function period(fromText: string, toText: string): [number, number] {
  const from = parseTimestamp(fromText);
  const to = parseTimestamp(toText);
  if (from !== from) throw new FeedbackError(`from is not a time: ${JSON.stringify(fromText)} (ISO 8601 such as 2026-02-24T09:00:00Z, or epoch seconds)`);
  if (to !== to) throw new FeedbackError(`to is not a time: ${JSON.stringify(toText)}`);
  if (to < from) throw new FeedbackError('to is before from');
  if (to - from > MAX_PERIOD_MS) throw new FeedbackError(`the period is longer than ${MAX_PERIOD_MS / 86_400_000} days`);
  return [from, to];
}
