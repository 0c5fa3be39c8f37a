import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BaselineState } from '../../src/baseline/baseline-state';
import { BaselineSnapshot } from '../../src/detection/detection.types';
import { createRng } from '../../src/detection/seeded-random';
import { BadInputError } from '../../src/processing/bad-input.error';
import { batchKeys } from '../../src/processing/batch-keys';
import { PipelineSettings, processBatch } from '../../src/processing/batch-pipeline';
import { CsvScorer } from '../../src/processing/csv-scorer';
import { generateBatch } from '../../src/producer/batch-generator';
import { LocalDirectoryStore } from '../../src/storage/local-directory.store';
import { AppConfig } from '../../src/config/app-config';
import { pipelineSettings } from '../../src/processing/pipeline-settings';

/** Copies of the reference producer's sample batches. */
const SAMPLES = path.join(__dirname, 'fixtures');
const REFERENCE_FIELDS = [
  'source_key',
  'output_key',
  'processed_at',
  'total_rows',
  'anomaly_count',
  'anomaly_rate',
  'baseline_observation_counts',
];
const SCORE_COLUMNS = [
  'temperature_zscore',
  'temperature_zscore_flag',
  'humidity_zscore',
  'humidity_zscore_flag',
  'pressure_zscore',
  'pressure_zscore_flag',
  'wind_speed_zscore',
  'wind_speed_zscore_flag',
  'if_label',
  'if_score',
  'if_flag',
  'anomaly',
  'anomaly_score',
  'anomaly_reasons',
];

/** The service's defaults. */
const settings: PipelineSettings = pipelineSettings(AppConfig.forTest({}));

let dir: string;
let store: LocalDirectoryStore;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-'));
  store = new LocalDirectoryStore(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A baseline learned from `batches` producer batches through the pipeline itself. */
async function learnedBaseline(batches = 4, rows = 300): Promise<BaselineState> {
  const rng = createRng(99);
  const state = BaselineState.empty({ minCount: 30, includeAnomalies: false });
  for (let i = 0; i < batches; i++) {
    const key = `raw/learn_${i}.csv`;
    await store.put(key, generateBatch({ rows, start: new Date(Date.UTC(2026, 1, 1) + i * 3.6e6), rng, batchIndex: i }).csv);
    const r = await processBatch(store, { keys: batchKeys(key) }, state.snapshot(), settings);
    expect(state.absorb({ key, etag: `e${i}` }, r.contribution).status).toBe('absorbed');
  }
  return state;
}

function cells(line: string): string[] {
  return line.split(','); // the reference-shaped files have no quoted fields
}

describe('processBatch through the local store', () => {
  it.each(readdirSync(SAMPLES).filter((f) => f.endsWith('.csv')))(
    'scores the reference sample %s: original bytes kept, reference columns, clean numbers',
    async (file) => {
      const raw = readFileSync(path.join(SAMPLES, file));
      const key = `raw/${file}`;
      await store.put(key, raw);
      const state = await learnedBaseline();
      const { summary, contribution } = await processBatch(store, { keys: batchKeys(key), etag: 'abc' }, state.snapshot(), settings);

      const out = readFileSync(path.join(dir, 'processed', file), 'utf8');
      const inLines = raw.toString('utf8').trimEnd().split('\n');
      const outLines = out.split('\n');
      expect(outLines.pop()).toBe(''); // ends with a line break
      expect(outLines).toHaveLength(inLines.length);
      expect(cells(outLines[0])).toEqual([...cells(inLines[0]), ...SCORE_COLUMNS]);
      outLines.forEach((line, i) => expect(line.startsWith(inLines[i] + ',')).toBe(true));
      expect(out).not.toMatch(/NaN|Infinity/);
      for (const line of outLines.slice(1)) {
        const c = cells(line).slice(5);
        for (const z of [0, 2, 4, 6]) expect(c[z]).toMatch(/^-?\d+\.\d{4}$/); // mature baseline: every z written
        for (const f of [1, 3, 5, 7, 10, 11]) expect(['True', 'False']).toContain(c[f]);
        expect(['1', '-1']).toContain(c[8]);
        expect(c[9]).toMatch(/^-?\d+\.\d{4}$/);
        expect(c[12]).toMatch(/^(0|1)\.\d{4}$/);
        expect(c[13] !== '').toBe(c[11] === 'True');
      }

      expect(Object.keys(summary).slice(0, REFERENCE_FIELDS.length)).toEqual(REFERENCE_FIELDS);
      const stored = JSON.parse(readFileSync(path.join(dir, 'processed', file.replace(/\.csv$/, '_summary.json')), 'utf8'));
      expect(stored).toEqual(summary);
      expect(summary).toMatchObject({
        source_key: key,
        output_key: `processed/${file}`,
        total_rows: 100,
        etag: 'abc',
        channels: ['temperature', 'humidity', 'pressure', 'wind_speed'],
        unscorable_rows: 0,
        baseline_observation_counts: Object.fromEntries(
          ['temperature', 'humidity', 'pressure', 'wind_speed'].map((ch) => [ch, state.lookup(ch)!.count]),
        ),
      });
      const flagged = outLines.slice(1).filter((l) => cells(l)[16] === 'True').length;
      expect(summary.anomaly_count).toBe(flagged);
      expect(summary.anomaly_rate).toBeCloseTo(flagged / 100, 10);
      expect(new Date(summary.processed_at).toISOString()).toBe(summary.processed_at);
      // The reference producer injects 5 anomalies per 100 rows, 5-8 std out: the learned baseline finds them.
      expect(summary.anomaly_count).toBeGreaterThanOrEqual(3);
      expect(summary.anomaly_count).toBeLessThanOrEqual(8);

      expect(contribution.windowColumns).toEqual(summary.channels);
      expect(contribution.normalRows).toHaveLength(100 - summary.anomaly_count);
      const accepted = contribution.channels.reduce((n, c) => n + c.accepted.count, 0);
      const rejected = contribution.channels.reduce((n, c) => n + c.rejected.count, 0);
      expect(accepted + rejected).toBe(400);
      expect(readFileSync(path.join(dir, key))).toEqual(raw); // raw untouched
    },
  );

  it('is deterministic: same file, baseline and settings give byte-identical output', async () => {
    const state = await learnedBaseline();
    const csv = generateBatch({ rows: 5000, start: new Date(Date.UTC(2026, 2, 1)), rng: createRng(5) }).csv;
    await store.put('raw/a.csv', csv);
    await store.put('raw/b.csv', csv);
    const s1 = await processBatch(store, { keys: batchKeys('raw/a.csv') }, state.snapshot(), settings);
    // A fresh snapshot of an identical state (as after a restart), and a second run.
    const again = BaselineState.parse(state.serialize(), { minCount: 30, includeAnomalies: false });
    const s2 = await processBatch(store, { keys: batchKeys('raw/b.csv') }, again.snapshot(), settings);
    const a = readFileSync(path.join(dir, 'processed/a.csv'));
    const b = readFileSync(path.join(dir, 'processed/b.csv'));
    expect(a.equals(b)).toBe(true);
    const strip = (s: object) => ({ ...s, source_key: 0, output_key: 0, processed_at: 0, duration_ms: 0 });
    expect(strip(s1.summary)).toEqual(strip(s2.summary));
  });

  it('gives the same bytes however the input is chunked', async () => {
    const state = await learnedBaseline(2);
    const csv = '\ufeff' + generateBatch({ rows: 3000, start: new Date(Date.UTC(2026, 2, 1)), rng: createRng(8) }).csv.replace(/\n/g, '\r\n');
    const bytes = Buffer.from(csv);
    const whole = await collect(new CsvScorer(state.snapshot(), settings), [bytes]);
    const pieces: Buffer[] = [];
    for (let i = 0, size = 1; i < bytes.length; i += size, size = (size * 7) % 4093 + 1) pieces.push(bytes.subarray(i, i + size));
    const chunked = await collect(new CsvScorer(state.snapshot(), { ...settings, chunkSize: 4096 }), pieces);
    expect(chunked.equals(whole)).toBe(true);
    expect(whole.subarray(0, 3).toString('latin1')).not.toBe('\u00ef\u00bb\u00bf'); // BOM dropped
    expect(whole.includes('\r')).toBe(false); // lines end in \n
  });

  it('scores the same bytes on a worker thread as on the main thread', async () => {
    const state = await learnedBaseline(3);
    const csv = generateBatch({ rows: 20000, start: new Date(Date.UTC(2026, 2, 1)), rng: createRng(21) }).csv;
    const pieces: Buffer[] = [];
    const bytes = Buffer.from(csv);
    for (let i = 0; i < bytes.length; i += 50000) pieces.push(bytes.subarray(i, i + 50000));
    const main = new CsvScorer(state.snapshot(), { ...settings, workerThresholdRows: Infinity });
    const worker = new CsvScorer(state.snapshot(), { ...settings, workerThresholdRows: 2000 });
    const a = await collect(main, pieces);
    const b = await collect(worker, pieces);
    expect(worker.outcome().usedWorker).toBe(true);
    expect(main.outcome().usedWorker).toBe(false);
    expect(b.equals(a)).toBe(true);
    const strip = (o: ReturnType<CsvScorer['outcome']>) => ({ ...o, usedWorker: 0, contribution: JSON.stringify(o.contribution) });
    expect(strip(worker.outcome())).toEqual(strip(main.outcome()));
    expect(main.outcome().anomalyCount).toBeGreaterThan(500);
  });

  it('starts at most two scoring threads at once; a third big file scores on its own thread, to the same bytes', async () => {
    const state = await learnedBaseline(3);
    const csv = generateBatch({ rows: 8000, start: new Date(Date.UTC(2026, 2, 1)), rng: createRng(22) }).csv;
    const bytes = Buffer.from(csv);
    const pieces: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 20000) pieces.push(bytes.subarray(i, i + 20000));
    const alone = await collect(new CsvScorer(state.snapshot(), { ...settings, workerThresholdRows: Infinity }), pieces);
    const scorers = [0, 1, 2].map(() => new CsvScorer(state.snapshot(), { ...settings, workerThresholdRows: 2000 }));
    const outputs = await Promise.all(scorers.map((sc) => collect(sc, pieces)));
    expect(scorers.map((sc) => sc.outcome().usedWorker).sort()).toEqual([false, true, true]);
    for (const out of outputs) expect(out.equals(alone)).toBe(true);
  });

  it('keeps quoted fields, a BOM and CRLF input byte for byte, and scores the numbers inside', async () => {
    const state = await learnedBaseline(2);
    const rows = ['\ufeffsite,timestamp,temperature,humidity,pressure,wind_speed'];
    for (let i = 0; i < 60; i++) {
      const site = i % 3 === 0 ? '"Lyon, FR"' : i % 3 === 1 ? '"the ""north"" mast"' : 'plain';
      rows.push(`${site},2026-02-24T00:${String(i).padStart(2, '0')}:00.000,"${(22 + (i % 5) / 10).toFixed(2)}",55.1,1013.2,${i === 30 ? 60 : 10}`);
    }
    await store.put('raw/q.csv', rows.join('\r\n') + '\r\n');
    const { summary } = await processBatch(store, { keys: batchKeys('raw/q.csv') }, state.snapshot(), settings);
    expect(summary.total_rows).toBe(60);
    expect(summary.channels).toEqual(['temperature', 'humidity', 'pressure', 'wind_speed']);
    expect(summary.missing_values).toEqual({ temperature: 0, humidity: 0, pressure: 0, wind_speed: 0 });
    const out = readFileSync(path.join(dir, 'processed/q.csv'), 'utf8').split('\n');
    expect(out[0].startsWith('site,timestamp,')).toBe(true);
    expect(out[1].startsWith('"Lyon, FR",2026-02-24T00:00:00.000,"22.00",55.1,1013.2,10,')).toBe(true);
    expect(out[2].startsWith('"the ""north"" mast",')).toBe(true);
    expect(out[31]).toMatch(/,True,\d\.\d{4},wind_speed z=/); // the 60 m/s wind is the anomaly, with its reason
    expect(summary.channel_anomaly_counts.wind_speed).toBeGreaterThanOrEqual(1);
  });

  it('keeps rows that cannot be scored, marks them and counts them', async () => {
    const state = await learnedBaseline(2);
    const lines = ['timestamp,temperature,humidity,pressure,wind_speed'];
    for (let i = 0; i < 40; i++) lines.push(`t${i},22.${i % 10},55,1013,10`);
    lines.push('t40,,,,');
    lines.push('t41,n/a,error,,');
    lines.push('t42,22.1,,1013.5,'); // partly missing: still scored
    await store.put('raw/u.csv', lines.join('\n') + '\n');
    const { summary, contribution } = await processBatch(store, { keys: batchKeys('raw/u.csv') }, state.snapshot(), settings);
    expect(summary.total_rows).toBe(43);
    expect(summary.unscorable_rows).toBe(2);
    expect(summary.missing_values).toEqual({ temperature: 2, humidity: 3, pressure: 2, wind_speed: 3 });
    const out = readFileSync(path.join(dir, 'processed/u.csv'), 'utf8').split('\n');
    expect(out[41]).toBe('t40,,,,,,,,,,,,,,,,False,,unscorable: no numeric value in any channel');
    expect(out[42]).toBe('t41,n/a,error,,,,,,,,,,,,,,False,,unscorable: no numeric value in any channel');
    expect(out[43]).toMatch(/^t42,22\.1,,1013\.5,,-?\d+\.\d{4},False,,,-?\d+\.\d{4},False,,,/);
    expect(out.join('\n')).not.toMatch(/NaN|Infinity/);
    expect(contribution.normalRows.length).toBeLessThanOrEqual(41);
  });

  it('takes values too large to sum as missing cells, and folds the batch', async () => {
    const state = await learnedBaseline(2);
    const lines = ['timestamp,temperature,humidity,pressure,wind_speed'];
    for (let i = 0; i < 40; i++) lines.push(`t${i},22.${i % 10},55,1013,10`);
    lines.push('t40,-1e200,55,1013,10', 't41,1e200,55,1013,10');
    await store.put('raw/huge.csv', lines.join('\n') + '\n');
    const { summary, contribution } = await processBatch(store, { keys: batchKeys('raw/huge.csv') }, state.snapshot(), settings);
    expect(summary.missing_values.temperature).toBe(2);
    expect(summary.total_rows).toBe(42);
    expect(() => state.absorb({ key: 'raw/huge.csv', etag: 'e' }, contribution)).not.toThrow();
    expect(state.lookup('temperature')!.isFinite()).toBe(true);
  });

  it.each([
    ['an empty file', '', undefined, /empty file/],
    ['a header only', 'timestamp,temperature\n', 2, /header only/],
    ['no numeric column', 'timestamp,name\n2026-01-01,a\n2026-01-02,b\n', 1, /no numeric column/],
    ['a ragged row', 'a,b\n1,2\n3,4\n5,6,7\n8,9\n', 4, /3 fields where the header has 2/],
    ['a short row', 'a,b\n1,2\n3\n', 3, /1 fields where the header has 2/],
    ['a non-UTF-8 byte', Buffer.concat([Buffer.from('a,b\n1,2\n'), Buffer.from([0xe9]), Buffer.from(',3\n')]), 3, /UTF-8/],
    ['a 10,000-column header', Array.from({ length: 10000 }, (_, i) => `c${i}`).join(',') + '\n1\n', 1, /10000 fields/],
    ['a PNG', Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000a49444154789c6300010000050001', 'hex'), 1, /NUL|UTF-8/],
    ['JSON', '{"temperature": 22.5, "humidity": [1, 2]}\n', 1, /quote/i],
    ['prose', 'Dear team,\nplease find attached the figures for March.\nBest regards\n', 2, /fields where the header has/],
    ['a duplicate column', 'a,b,a\n1,2,3\n', 1, /duplicate column name "a"/],
    ['an unclosed quote', 'a,b\n1,2\n"3,4\n5,6\n', 3, /never closed/],
    ['a scored file fed back', 'timestamp,a,a_zscore,a_zscore_flag,if_label,if_score,if_flag,anomaly\nt,1,0,False,1,0.1,False,False\n', 1, /columns the scored file adds \(a_zscore, a_zscore_flag, if_label, if_score, if_flag, …\): is this a scored file/],
  ])('refuses %s with the line, leaving no output', async (_what, body, line, message) => {
    await store.put('raw/bad.csv', body);
    const err = await processBatch(store, { keys: batchKeys('raw/bad.csv') }, BaselineState.empty({ minCount: 30, includeAnomalies: false }).snapshot(), settings).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BadInputError);
    expect((err as BadInputError).line).toBe(line);
    expect((err as BadInputError).message).toMatch(message);
    expect(readdirSync(path.join(dir, 'processed'), { recursive: true })).toEqual([]);
  });

  it('leaves no half-written output when the file turns bad after many good rows', async () => {
    const csv = generateBatch({ rows: 60000, start: new Date(Date.UTC(2026, 2, 1)), rng: createRng(3) }).csv;
    await store.put('raw/late.csv', csv + '2026-03-01T00:00:00.000,1,2,3\n');
    const snapshot: BaselineSnapshot = (await learnedBaseline(1)).snapshot();
    await expect(processBatch(store, { keys: batchKeys('raw/late.csv') }, snapshot, { ...settings, chunkSize: 64 * 1024 })).rejects.toMatchObject({
      line: 60002,
    });
    expect(readdirSync(path.join(dir, 'processed')).filter((f) => f.startsWith('late'))).toEqual([]);
  });
});

async function collect(scorer: CsvScorer, input: Buffer[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of scorer.run(input)) parts.push(chunk);
  return Buffer.concat(parts);
}
