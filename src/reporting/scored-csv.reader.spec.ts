import { Readable } from 'node:stream';
import { readAnomalyRows, typedCell } from './scored-csv.reader';

describe('scored CSV reader', () => {
  it('types cells as JSON would', () => {
    expect(typedCell('22.5')).toBe(22.5);
    expect(typedCell('-1')).toBe(-1);
    expect(typedCell('1e-3')).toBe(0.001);
    expect(typedCell('True')).toBe(true);
    expect(typedCell('false')).toBe(false);
    expect(typedCell('')).toBeNull();
    expect(typedCell('2026-02-24T00:10:51.000')).toBe('2026-02-24T00:10:51.000');
    expect(typedCell('temperature z=6.2')).toBe('temperature z=6.2');
  });

  it('returns only anomalous rows, typed, in file order, up to the limit, each with its row in the file', async () => {
    const csv =
      'timestamp,temperature,temperature_zscore_flag,if_label,anomaly,anomaly_reasons\n' +
      '2026-01-01T00:00:00.000,22.1,False,1,False,\n' +
      '2026-01-01T00:01:00.000,40.2,True,-1,True,"temperature z=9.1; isolation"\n' +
      '2026-01-01T00:02:00.000,,,1,True,unscorable\n' +
      '2026-01-01T00:03:00.000,22.0,False,1,True,x\n';
    const rows = await readAnomalyRows(Readable.from([csv]), 2);
    expect(rows).toEqual([
      {
        timestamp: '2026-01-01T00:01:00.000',
        temperature: 40.2,
        temperature_zscore_flag: true,
        if_label: -1,
        anomaly: true,
        anomaly_reasons: 'temperature z=9.1; isolation',
        row: 1,
      },
      { timestamp: '2026-01-01T00:02:00.000', temperature: null, temperature_zscore_flag: null, if_label: 1, anomaly: true, anomaly_reasons: 'unscorable', row: 2 },
    ]);
  });

  it('returns nothing for a file without an anomaly column', async () => {
    expect(await readAnomalyRows(Readable.from(['a,b\n1,2\n']), 10)).toEqual([]);
  });
});

describe('scored CSV as series', () => {
  it('finds the channels by their z-score columns and reads values and flags', async () => {
    const { readScoredSeries } = await import('./scored-csv.reader');
    const csv =
      'timestamp,temperature,humidity,temperature_zscore,temperature_zscore_flag,humidity_zscore,humidity_zscore_flag,anomaly,anomaly_reasons\n' +
      't0,22.1,50,0.1,False,0.2,False,False,\n' +
      't1,40.2,,9.1,True,,,True,temperature z=9.1\n' +
      't2,22.0,51,0,,0.1,,False,\n';
    const s = await readScoredSeries(Readable.from([csv]), 2);
    expect(s.channels).toEqual(['temperature', 'humidity']);
    expect(s.timestamps).toEqual(['t0', 't1']);
    expect(s.values).toEqual({ temperature: [22.1, 40.2], humidity: [50, null] });
    expect(s.zscoreFlags.temperature).toEqual([false, true]);
    expect(s.anomaly).toEqual([false, true]);
    expect(s.reasons).toEqual(['', 'temperature z=9.1']);
    expect(s.truncated).toBe(true);
  });
});

describe('scored CSV reader errors', () => {
  it('reports a failing source as a SourceStreamError instead of leaving it unhandled', async () => {
    const { readAnomalyRows, SourceStreamError } = await import('./scored-csv.reader');
    let sent = false;
    const source = new Readable({
      read() {
        if (!sent) {
          sent = true;
          this.push('a,anomaly\n1,True\n');
        } else {
          this.destroy(new Error('connection reset'));
        }
      },
    });
    await expect(readAnomalyRows(source, 1000)).rejects.toBeInstanceOf(SourceStreamError);
  });
});
