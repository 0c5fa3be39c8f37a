import { RowScore } from '../detection/detection.types';
import { ByteWriter } from './byte-writer';

/**
 * Flag spelling. The reference builds its flag columns as pandas booleans and writes them with
 * `DataFrame.to_csv`, which prints Python's `True` / `False`; a flag of an immature channel is
 * `None` there, printed as an empty cell. Consumers of the reference's files parse exactly these.
 */
export const TRUE = 'True';
export const FALSE = 'False';

const COMMA = 0x2c;
const LF = 0x0a;
const TRUE_BYTES = Buffer.from(`,${TRUE}`);
const FALSE_BYTES = Buffer.from(`,${FALSE}`);

/** `anomaly_reasons` of a row that could not be scored (`RowScore.scorable` false). */
export const UNSCORABLE_REASON = 'unscorable: no numeric value in any channel';

/** Columns appended after the original ones, in order. */
export function scoreColumns(channels: readonly string[]): string[] {
  const cols: string[] = [];
  for (const ch of channels) cols.push(`${ch}_zscore`, `${ch}_zscore_flag`);
  cols.push('if_label', 'if_score', 'if_flag', 'anomaly', 'anomaly_score', 'anomaly_reasons');
  return cols;
}

/** A CSV cell for `s`: quoted only when it must be (comma, quote, line break). */
export function csvCell(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Writes the scored CSV: each record's original bytes unchanged, then the scoring columns.
 * Lines end in `\n` (as pandas writes them) whatever the input used. Numbers have 4 decimals; a
 * NaN or infinite score is never written, its cell stays empty.
 */
export class ScoredCsvWriter {
  private readonly k: number;

  constructor(
    private readonly out: ByteWriter,
    channels: readonly string[],
  ) {
    this.k = channels.length;
    this.columns = Buffer.from(scoreColumns(channels).map((c) => `,${csvCell(c)}`).join(''), 'utf8');
    // A row with no number in any channel is kept and marked: no scores, not an anomaly, and why.
    this.unscorable = Buffer.from(`${',,'.repeat(this.k)},,,,${FALSE},,${UNSCORABLE_REASON}\n`, 'utf8');
  }

  private readonly columns: Buffer;
  private readonly unscorable: Buffer;

  header(raw: Uint8Array, start: number, end: number): void {
    this.out.bytes(raw, start, end);
    this.out.bytes(this.columns);
    this.out.byte(LF);
  }

  row(raw: Uint8Array, start: number, end: number, score: RowScore): void {
    const out = this.out;
    out.bytes(raw, start, end);
    if (!score.scorable) {
      out.bytes(this.unscorable);
      return;
    }
    const z = score.z;
    const flags = score.zFlag;
    for (let c = 0; c < this.k; c++) {
      out.byte(COMMA);
      out.fixed4(z[c]);
      const flag = flags[c];
      if (flag === 1) out.bytes(TRUE_BYTES);
      else if (flag === 0) out.bytes(FALSE_BYTES);
      else out.byte(COMMA);
    }
    out.byte(COMMA);
    out.int(score.ifLabel);
    out.byte(COMMA);
    out.fixed4(score.ifScore);
    out.bytes(score.ifFlag ? TRUE_BYTES : FALSE_BYTES);
    out.bytes(score.anomaly ? TRUE_BYTES : FALSE_BYTES);
    out.byte(COMMA);
    out.fixed4(score.anomalyScore);
    out.byte(COMMA);
    if (score.reasons.length > 0) out.text(csvCell(score.reasons));
    out.byte(LF);
  }
}
