import { ScoringWorkerClient, ScoringWorkerError } from './scoring-worker.client';
import { SnapshotData } from './snapshot-transfer';

const emptySnapshot: SnapshotData = {
  channels: [{ channel: 'x', baseline: { count: 100, mean: 10, std: 2, skewness: 0, kurtosis: 0 }, learning: null }],
  window: { columns: [], size: 0, generation: 0, values: new Float64Array(0), entities: null },
};

describe('ScoringWorkerClient', () => {
  it('scores blocks on a worker thread and hands the values back', async () => {
    const client = new ScoringWorkerClient({
      snapshot: emptySnapshot,
      channels: ['x'],
      settings: { zThreshold: 3, minCount: 30, trees: 10, seed: 1 },
      coldStartSample: [],
    });
    try {
      const [a, b] = await Promise.all([client.score(Float64Array.of(10, 12, 30), 3, Float64Array.of(NaN), Float64Array.of(0)), client.score(Float64Array.of(NaN), 1, Float64Array.of(30), Float64Array.of(0))]);
      expect(Array.from(a.values)).toEqual([10, 12, 30]);
      expect(Array.from(a.z)).toEqual([0, 1, 10]);
      expect(Array.from(a.zFlag)).toEqual([0, 0, 1]);
      expect(a.reasonRows).toEqual([2]);
      expect(a.reasons[0]).toMatch(/^x z=10/);
      expect(b.flags[0] & 8).toBe(0); // not scorable
    } finally {
      await client.terminate();
    }
  });

  it('rejects with a ScoringWorkerError when the worker fails', async () => {
    const client = new ScoringWorkerClient({
      snapshot: emptySnapshot,
      channels: ['x'],
      settings: { zThreshold: -1, minCount: 30, trees: 10, seed: 1 }, // the detector refuses it
      coldStartSample: [],
    });
    try {
      await expect(client.score(Float64Array.of(1), 1, Float64Array.of(NaN), Float64Array.of(0))).rejects.toThrow(ScoringWorkerError);
      await expect(client.score(Float64Array.of(1), 1, Float64Array.of(NaN), Float64Array.of(0))).rejects.toThrow(/zThreshold/);
    } finally {
      await client.terminate();
    }
  });
});
