import { LEVEL_SHIFT_AT, TruthEntry } from '../../src/producer/batch-generator';
import { StreamCounter } from './stream-counter';
import { StreamSpec } from './streams';

const flags = (rows: number, anomalous: number[], isolated: number[] = []) => {
  const anomaly = new Uint8Array(rows);
  const ifFlag = new Uint8Array(rows);
  for (const r of anomalous) anomaly[r] = 1;
  for (const r of isolated) ifFlag[r] = 1;
  return { anomaly, ifFlag };
};

const spec = (profile: StreamSpec['profile']): StreamSpec => ({ name: profile, profile, description: '' });

describe('StreamCounter', () => {
  it('counts rows against the truth: precision, recall, F1, FPR, all-normal batches, kinds', () => {
    const c = new StreamCounter(spec('correlated'), { path: 'pipeline', isolation: 'corroborated', halfLife: 2000 });
    const truth: TruthEntry[] = [
      { row: 1, channel: 'cpu_pct', kind: 'spike' },
      { row: 2, channel: 'cpu_pct', kind: 'correlation-break' },
      { row: 3, channel: 'latency_ms', kind: 'spike' },
    ];
    // Batch 0: rows 1 and 3 found, row 2 missed (its isolation flag set), row 5 a false positive.
    c.addBatch(0, 10, truth, flags(10, [1, 3, 5], [2, 5]));
    // Batch 1: no anomaly injected, one row flagged.
    c.addBatch(1, 10, [], flags(10, [4]));
    c.addTiming(2, false);
    c.addTiming(50, true);
    c.addTiming(4, false);
    const r = c.result();
    expect(r).toMatchObject({
      stream: 'correlated',
      path: 'pipeline',
      halfLife: 2000,
      batches: 2,
      rows: 20,
      truePositives: 2,
      falsePositives: 2,
      falseNegatives: 1,
      allNormalBatches: 1,
      isolationFlagged: 1,
      isolationFlagOnNormal: 1,
      refits: 1,
      medianBatchMs: 4,
      byKind: { spike: { rows: 2, flagged: 2, isolationFlag: 0 }, 'correlation-break': { rows: 1, flagged: 0, isolationFlag: 1 } },
    });
    expect(r.precision).toBeCloseTo(0.5, 10);
    expect(r.recall).toBeCloseTo(2 / 3, 10);
    expect(r.f1).toBeCloseTo(4 / 7, 10);
    expect(r.fpr).toBeCloseTo(2 / 17, 10);
    expect(r.fprAllNormalBatches).toBeCloseTo(0.1, 10);
    expect(r.shiftFloodBatches).toBeUndefined();
  });

  it('level shift: counts the flood after the shift and scores the stream without it', () => {
    const c = new StreamCounter(spec('level-shift'), { path: 'detector', isolation: 'off' });
    const truth: TruthEntry[] = [{ row: 0, channel: 'pressure' }];
    for (let b = 0; b < LEVEL_SHIFT_AT + 5; b++) {
      // Two flood batches right after the shift (every row flagged), clean elsewhere.
      const flooded = b === LEVEL_SHIFT_AT || b === LEVEL_SHIFT_AT + 1;
      c.addBatch(b, 10, truth, flags(10, flooded ? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] : [0]));
    }
    const r = c.result();
    expect(r.halfLife).toBeNull();
    expect(r.falsePositives).toBe(18);
    expect(r.shiftFloodBatches).toBe(2);
    expect(r.shiftLastFloodBatch).toBe(1);
    expect(r.f1AfterRelearn).toBe(1);
    expect(r.fprAfterRelearn).toBe(0);
    expect(r.byKind).toEqual({ spike: { rows: LEVEL_SHIFT_AT + 5, flagged: LEVEL_SHIFT_AT + 5, isolationFlag: 0 } });
  });

  it('refuses batches out of order or flags of the wrong length', () => {
    const c = new StreamCounter(spec('reference'), { path: 'pipeline', isolation: 'corroborated' });
    expect(() => c.addBatch(1, 10, [], flags(10, []))).toThrow(/out of order/);
    expect(() => c.addBatch(0, 10, [], flags(9, []))).toThrow(/9 flags for 10 rows/);
  });
});
