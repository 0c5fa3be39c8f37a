import { RowScore } from '../detection/detection.types';

/**
 * The scores of a block of rows packed into typed arrays, so a worker thread can hand them back
 * without copying (the buffers are transferred) and without a structured clone per row.
 */
export interface ScoredBlock {
  id: number;
  rows: number;
  /** The block's input values, handed back for the baseline contribution. */
  values: Float64Array;
  z: Float64Array;
  zFlag: Int8Array;
  channelAnomalous: Int8Array;
  ifScore: Float64Array;
  anomalyScore: Float64Array;
  /** Per row: bit 0 if_label is -1, bit 1 if_flag, bit 2 anomaly, bit 3 scorable. */
  flags: Uint8Array;
  /** Reasons of the rows that have one: `reasonRows[i]` has `reasons[i]`. */
  reasonRows: number[];
  reasons: string[];
}

const LABEL_ANOMALY = 1;
const IF_FLAG = 2;
const ANOMALY = 4;
const SCORABLE = 8;

export function newScoredBlock(id: number, rows: number, channels: number, values: Float64Array): ScoredBlock {
  return {
    id,
    rows,
    values,
    z: new Float64Array(rows * channels),
    zFlag: new Int8Array(rows * channels),
    channelAnomalous: new Int8Array(rows * channels),
    ifScore: new Float64Array(rows),
    anomalyScore: new Float64Array(rows),
    flags: new Uint8Array(rows),
    reasonRows: [],
    reasons: [],
  };
}

export function packRow(block: ScoredBlock, r: number, channels: number, s: RowScore): void {
  const o = r * channels;
  for (let c = 0; c < channels; c++) {
    block.z[o + c] = s.z[c];
    block.zFlag[o + c] = s.zFlag[c];
    block.channelAnomalous[o + c] = s.channelAnomalous[c];
  }
  block.ifScore[r] = s.ifScore;
  block.anomalyScore[r] = s.anomalyScore;
  block.flags[r] =
    (s.ifLabel === -1 ? LABEL_ANOMALY : 0) | (s.ifFlag ? IF_FLAG : 0) | (s.anomaly ? ANOMALY : 0) | (s.scorable ? SCORABLE : 0);
  if (s.reasons.length > 0) {
    block.reasonRows.push(r);
    block.reasons.push(s.reasons);
  }
}

/** Row `r` of the block into `out`; `reasonAt` is the index of the next reason not yet used. */
export function unpackRow(block: ScoredBlock, r: number, channels: number, out: RowScore, reasonAt: number): number {
  const o = r * channels;
  for (let c = 0; c < channels; c++) {
    out.z[c] = block.z[o + c];
    out.zFlag[c] = block.zFlag[o + c];
    out.channelAnomalous[c] = block.channelAnomalous[o + c];
  }
  const f = block.flags[r];
  out.ifScore = block.ifScore[r];
  out.anomalyScore = block.anomalyScore[r];
  out.ifLabel = f & LABEL_ANOMALY ? -1 : 1;
  out.ifFlag = (f & IF_FLAG) !== 0;
  out.anomaly = (f & ANOMALY) !== 0;
  out.scorable = (f & SCORABLE) !== 0;
  if (reasonAt < block.reasonRows.length && block.reasonRows[reasonAt] === r) {
    out.reasons = block.reasons[reasonAt];
    return reasonAt + 1;
  }
  out.reasons = '';
  return reasonAt;
}

export function transferables(block: ScoredBlock): ArrayBuffer[] {
  return [block.values, block.z, block.zFlag, block.channelAnomalous, block.ifScore, block.anomalyScore, block.flags].map(
    (a) => a.buffer as ArrayBuffer,
  );
}
