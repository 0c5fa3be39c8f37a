/**
 * Operators' feedback against the real service on a local data directory: a false alarm stops
 * being flagged, a maintenance window is neither flagged nor learned, an incident undoes the
 * re-learning inside it, and all of it survives a restart, exactly once.
 */
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/app.setup';
import { AppConfig } from '../../src/config/app-config';
import { createRng, normal } from '../../src/detection/seeded-random';
import { ProcessingService } from '../../src/processing/processing.service';
import { ObjectStore } from '../../src/storage/object-store';

const START = Date.UTC(2026, 1, 24);
const MINUTE = 60_000;

describe('POST /feedback against the real service', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'feedback-'));
  const config = AppConfig.forTest({ DATA_DIR: dir, BASELINE_LOCAL_PATH: path.join(dir, 'baseline.json'), LOCAL_WATCH: 'false' });
  const rng = createRng(5);
  let app: INestApplication;
  let minute = 0;
  let batch = 0;

  async function boot(): Promise<void> {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
    app = moduleRef.createNestApplication({ logger: ['error'] });
    configureApp(app);
    await app.init();
  }

  /** One 100-row batch, a row a minute, x ~ N(level, 1) with `at` overriding rows; returns its name and flags. */
  async function drop(level: number, at: Record<number, number> = {}): Promise<{ name: string; flagged: number[]; summary: Record<string, unknown> }> {
    const lines = ['timestamp,x,y'];
    for (let i = 0; i < 100; i++, minute++) {
      const x = at[i] ?? normal(rng, level, 1);
      lines.push(`${new Date(START + minute * MINUTE).toISOString()},${x.toFixed(3)},${normal(rng, 10, 1).toFixed(3)}`);
    }
    const name = `b${String(batch++).padStart(3, '0')}`;
    const store = app.get(ObjectStore);
    await store.put(`raw/${name}.csv`, lines.join('\n') + '\n', 'text/csv');
    const processing = app.get(ProcessingService);
    processing.enqueue({ key: `raw/${name}.csv`, source: 'catch-up' });
    await processing.idle();
    const scored = (await store.getText(`processed/${name}.csv`))!.trim().split('\n');
    const anomalyAt = scored[0].split(',').indexOf('anomaly');
    const flagged = scored.slice(1).flatMap((l, i) => (l.split(',')[anomalyAt] === 'True' ? [i] : []));
    return { name, flagged, summary: JSON.parse((await store.getText(`processed/${name}_summary.json`))!) };
  }

  const observations = async (channel: string): Promise<{ observations: number; mean: number }> =>
    (await request(app.getHttpServer()).get('/baseline/current').expect(200)).body.channels[channel];

  beforeAll(async () => {
    await boot();
    for (let i = 0; i < 6; i++) await drop(50);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses what a verdict lacks, with a message that says what', async () => {
    const http = request(app.getHttpServer());
    const refuse = async (body: object, message: RegExp, status = 400) => {
      const res = await http.post('/feedback').send(body).expect(status);
      expect([res.body.message].flat().join('; ')).toMatch(message);
    };
    await refuse({ verdict: 'maybe' }, /verdict must be one of normal, anomaly, ignore/);
    await refuse({ verdict: 'normal', rows: [1] }, /rows need the source_file/);
    await refuse({ verdict: 'normal', source_file: 'processed/b000.csv' }, /needs rows or from\/to/);
    await refuse({ verdict: 'ignore' }, /needs a period/);
    await refuse({ verdict: 'ignore', from: '2026-02-24T10:00:00Z', to: '2026-02-24T09:00:00Z' }, /to is before from/);
    await refuse({ verdict: 'ignore', from: 'yesterday', to: '2026-02-24T09:00:00Z' }, /from is not a time/);
    await refuse({ verdict: 'normal', source_file: '../etc/passwd', rows: [1] }, /source_file must name a batch/);
    await refuse({ verdict: 'normal', source_file: 'processed/nope.csv', rows: [1] }, /No scored file processed\/nope.csv/, 404);
    await refuse({ verdict: 'normal', source_file: 'raw/b000.csv', rows: [100] }, /has 100 rows; no row 100/);
  });

  it('stops flagging a false alarm once it is marked normal, and only values as far out', async () => {
    const spike = await drop(50, { 10: 56 });
    expect(spike.flagged).toContain(10);
    const res = await request(app.getHttpServer())
      .post('/feedback')
      .send({ verdict: 'normal', source_file: `processed/${spike.name}.csv`, rows: [10], note: 'calibration run' })
      .expect(201);
    expect(res.body).toMatchObject({ verdict: 'normal', source_file: `processed/${spike.name}.csv`, rows: [10], values_learned: 2 });
    const after = await drop(50, { 20: 55.8, 60: 64 });
    expect(after.flagged).not.toContain(20);
    expect(after.flagged).toContain(60);
  });

  it('neither flags nor learns a maintenance window', async () => {
    const from = new Date(START + minute * MINUTE).toISOString();
    const to = new Date(START + (minute + 99) * MINUTE).toISOString();
    await request(app.getHttpServer()).post('/feedback').send({ verdict: 'ignore', from, to, note: 'pump serviced' }).expect(201);
    const before = await observations('x');
    const serviced = await drop(80, { 5: 200 });
    expect(serviced.flagged).toEqual([]);
    expect(serviced.summary).toMatchObject({ excluded_rows: 100, anomaly_count: 0 });
    expect(await observations('x')).toEqual(before);
  });

  it('undoes a level re-learned inside an incident, and learns nothing of the incident from then on', async () => {
    const from = new Date(START + minute * MINUTE).toISOString();
    // Five hours at a new level: re-learned after two (BASELINE_RELEARN_AFTER).
    for (let i = 0; i < 3; i++) await drop(60);
    const to = new Date(START + (minute - 1) * MINUTE).toISOString();
    expect((await observations('x')).mean).toBeGreaterThan(55);
    const res = await request(app.getHttpServer()).post('/feedback').send({ verdict: 'anomaly', from, to }).expect(201);
    expect(res.body.relearns_undone).toEqual(['x']);
    expect((await observations('x')).mean).toBeLessThan(55);
    // The same request again is a new record; the level was moved back once.
    const again = await request(app.getHttpServer()).post('/feedback').send({ verdict: 'anomaly', from, to }).expect(201);
    expect(again.body.relearns_undone).toEqual([]);
    // A file of that period arriving late: scored, not learned.
    const now = minute;
    minute = (Date.parse(from) - START) / MINUTE;
    const before = await observations('x');
    const late = await drop(60);
    minute = now;
    expect(late.summary).toMatchObject({ excluded_rows: 100 });
    expect(await observations('x')).toEqual(before);
  });

  it('keeps every record through a restart and applies none of them twice', async () => {
    const listed = (await request(app.getHttpServer()).get('/feedback').expect(200)).body;
    expect(listed.feedback.map((f: { verdict: string }) => f.verdict)).toEqual(['anomaly', 'anomaly', 'ignore', 'normal']);
    expect(listed.exclusion_windows).toBe(3);
    const before = await observations('x');
    const metrics = (await request(app.getHttpServer()).get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/anomaly_feedback_total\{verdict="normal"\} 1/);
    await app.close();

    await boot();
    const replayed = (await request(app.getHttpServer()).get('/feedback').expect(200)).body;
    expect(replayed.feedback.map((f: { id: string }) => f.id)).toEqual(listed.feedback.map((f: { id: string }) => f.id));
    expect(replayed.exclusion_windows).toBe(3);
    expect(await observations('x')).toEqual(before);
    const doc = (await request(app.getHttpServer()).get('/docs-json').expect(200)).body;
    expect(doc.paths['/feedback'].post.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/FeedbackRequestDto');
    expect(doc.components.schemas.FeedbackRequestDto.properties.verdict.enum).toEqual(['normal', 'anomaly', 'ignore']);
  });
});
