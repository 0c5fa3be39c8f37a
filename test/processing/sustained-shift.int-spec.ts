/**
 * The sustained-shift test through the real pipeline: a channel moved by a few of its spreads for a
 * while is flagged while it lasts, though few of its values pass a per-row limit; one spike is not
 * followed by a train of flags.
 */
import { AppConfig } from '../../src/config/app-config';
import { createRng, normal } from '../../src/detection/seeded-random';
import { pipelineSettings } from '../../src/processing/pipeline-settings';
import { PipelineReplayer, readScoredColumns } from '../../scripts/evaluation/pipeline-replayer';

const START = Date.UTC(2026, 1, 24);
const rng = createRng(11);
let row = 0;

/** 100 rows a second apart of two independent N(0, 1) channels, `shift(i)` added to `a`. */
function batch(shift: (i: number) => number): string {
  const lines = ['timestamp,a,b'];
  for (let i = 0; i < 100; i++, row++) {
    lines.push(`${new Date(START + row * 1000).toISOString()},${(normal(rng, 0, 1) + shift(i)).toFixed(4)},${normal(rng, 0, 1).toFixed(4)}`);
  }
  return lines.join('\n') + '\n';
}

describe('sustained shifts through the pipeline', () => {
  let replayer: PipelineReplayer;
  let b = 0;
  const replay = async (csv: string) => readScoredColumns((await replayer.replay(`raw/s_${b++}.csv`, csv)).scored, 'batch');

  beforeAll(async () => {
    replayer = await PipelineReplayer.create('sustained', pipelineSettings(AppConfig.forTest({})));
    for (let i = 0; i < 10; i++) await replay(batch(() => 0));
  }, 60_000);

  afterAll(() => replayer?.close());

  it('flags a shift of 3 spreads while it lasts, where the per-row test sees few of its values', async () => {
    const cols = await replay(batch((i) => (i >= 20 && i < 80 ? 3 : 0)));
    const during = cols.reasons.slice(35, 80);
    expect(during.filter((r) => /a sustained z=/.test(r)).length).toBeGreaterThanOrEqual(40);
    expect(during.filter((r) => /a z=/.test(r)).length).toBeLessThan(20);
    expect(cols.anomaly.slice(0, 20).reduce((x, y) => x + y, 0)).toBeLessThanOrEqual(1);
    // b never moved.
    expect(cols.reasons.filter((r) => /\bb sustained/.test(r))).toEqual([]);
  });

  it('does not follow one spike with a train of flags', async () => {
    await replay(batch(() => 0)); // back to normal
    const cols = await replay(batch((i) => (i === 10 ? 12 : 0)));
    expect(cols.reasons[10]).toMatch(/a z=/);
    expect(cols.reasons.slice(11).filter((r) => /sustained/.test(r))).toEqual([]);
  });
});
