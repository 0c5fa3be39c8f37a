import { BatchSummary, loadSavedIndex, saveIndex, SummaryIndex, summaryProblem } from './summary-index';

const summary = (i: number, rows = 100, anomalies = 2): BatchSummary => ({
  source_key: `raw/b${i}.csv`,
  output_key: `processed/b${i}.csv`,
  processed_at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
  total_rows: rows,
  anomaly_count: anomalies,
  anomaly_rate: anomalies / rows,
});

describe('SummaryIndex', () => {
  it('keeps totals, and replacing a summary does not count it twice', () => {
    const index = new SummaryIndex();
    index.add('processed/b1_summary.json', summary(1, 100, 3));
    index.add('processed/b2_summary.json', summary(2, 50, 1));
    index.add('processed/b1_summary.json', summary(1, 100, 4));
    expect(index.totals()).toEqual({ files: 2, rows: 150, anomalies: 5 });
  });

  it('lists the newest first, with full summaries for them, however many were added', () => {
    const index = new SummaryIndex();
    const order = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000); // shuffled
    for (const i of order) index.add(`processed/b${i}_summary.json`, summary(i));
    const newest = index.newest(5);
    expect(newest.map((n) => n.outputKey)).toEqual([999, 998, 997, 996, 995].map((i) => `processed/b${i}.csv`));
    expect(newest.every((n) => index.fullSummary(n.summaryKey)?.total_rows === 100)).toBe(true);
    expect(index.totals()).toEqual({ files: 1000, rows: 100000, anomalies: 2000 });
  });

  it('says what is wrong with a malformed summary', () => {
    expect(summaryProblem(summary(1))).toBeNull();
    expect(summaryProblem([])).toMatch(/object/);
    expect(summaryProblem({ ...summary(1), total_rows: 'many' })).toMatch(/total_rows/);
    expect(summaryProblem({ ...summary(1), anomaly_count: -1 })).toMatch(/anomaly_count/);
    expect(summaryProblem({ ...summary(1), processed_at: 'yesterday' })).toMatch(/processed_at/);
  });
});

describe('saved index', () => {
  it('round-trips entries and totals', () => {
    const index = new SummaryIndex();
    for (let i = 0; i < 20; i++) index.add(`processed/b${i}_summary.json`, summary(i, 100, i % 4), `etag${i}`);
    const loaded = loadSavedIndex(JSON.stringify(saveIndex(index)));
    const copy = new SummaryIndex();
    for (const e of loaded.values()) copy.addEntry(e);
    expect(copy.totals()).toEqual(index.totals());
    expect(copy.newest(3)).toEqual(index.newest(3));
    expect(loaded.get('processed/b7_summary.json')?.etag).toBe('etag7');
  });

  it('treats anything unexpected as nothing saved', () => {
    expect(loadSavedIndex(null).size).toBe(0);
    expect(loadSavedIndex('{not json').size).toBe(0);
    expect(loadSavedIndex('{"version": 2, "entries": []}').size).toBe(0);
    expect(loadSavedIndex('{"version": 1, "entries": [["k", "o", "x", 1, 1, "e"], ["k2", "o2", 1, 2, 3, "e2"]]}').size).toBe(1);
  });
});
