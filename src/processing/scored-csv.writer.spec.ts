import { RowScore } from '../detection/detection.types';
import { ByteWriter } from './byte-writer';
import { csvCell, scoreColumns, ScoredCsvWriter, UNSCORABLE_REASON } from './scored-csv.writer';

function rowScore(k: number, fill: Partial<RowScore>): RowScore {
  return {
    z: new Float64Array(k),
    zFlag: new Int8Array(k),
    channelAnomalous: new Int8Array(k),
    ifScore: 0,
    ifLabel: 1,
    ifFlag: false,
    anomaly: false,
    anomalyScore: 0,
    reasons: '',
    scorable: true,
    ...fill,
  };
}

describe('ScoredCsvWriter', () => {
  it('writes the exact reference columns, then ours, for a tiny file', () => {
    const out = new ByteWriter(1024);
    const csv = new ScoredCsvWriter(out, ['temperature', 'humidity']);
    const line = (s: string) => Buffer.from(`xx${s}yy`);
    const header = line('timestamp,temperature,humidity');
    csv.header(header, 2, header.length - 2);
    const r1 = line('2026-02-24T00:10:51.000,22.58,46.33');
    csv.row(r1, 2, r1.length - 2, rowScore(2, { z: Float64Array.of(0.38666, -1.7344999) , zFlag: Int8Array.of(0, 0), ifScore: 0.0712, ifLabel: 1 }));
    const r2 = line('2026-02-24T00:11:51.000,31.9,');
    csv.row(
      r2,
      2,
      r2.length - 2,
      rowScore(2, {
        z: Float64Array.of(6.2, NaN),
        zFlag: Int8Array.of(1, 0),
        channelAnomalous: Int8Array.of(1, 0),
        ifScore: -0.08,
        ifLabel: -1,
        ifFlag: true,
        anomaly: true,
        anomalyScore: 0.97125,
        reasons: 'temperature z=6.2; isolation',
      }),
    );
    const r3 = line('2026-02-24T00:12:51.000,22.1,50');
    csv.row(r3, 2, r3.length - 2, rowScore(2, { z: Float64Array.of(0.1, Infinity), zFlag: Int8Array.of(-1, -1), ifScore: NaN }));
    const r4 = line('2026-02-24T00:13:51.000,n/a,');
    csv.row(r4, 2, r4.length - 2, rowScore(2, { z: Float64Array.of(NaN, NaN), zFlag: Int8Array.of(0, 0), scorable: false }));
    expect(out.take().toString('utf8')).toBe(
      [
        'timestamp,temperature,humidity,temperature_zscore,temperature_zscore_flag,humidity_zscore,humidity_zscore_flag,if_label,if_score,if_flag,anomaly,anomaly_score,anomaly_reasons',
        '2026-02-24T00:10:51.000,22.58,46.33,0.3867,False,-1.7345,False,1,0.0712,False,False,0.0000,',
        '2026-02-24T00:11:51.000,31.9,,6.2000,True,,False,-1,-0.0800,True,True,0.9713,temperature z=6.2; isolation',
        '2026-02-24T00:12:51.000,22.1,50,0.1000,,,,1,,False,False,0.0000,',
        `2026-02-24T00:13:51.000,n/a,,,,,,,,,False,,${UNSCORABLE_REASON}`,
        '',
      ].join('\n'),
    );
  });

  it('quotes column names and reasons only when CSV needs it', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "x"')).toBe('"say ""x"""');
    expect(scoreColumns(['cpu, %'])).toEqual(['cpu, %_zscore', 'cpu, %_zscore_flag', 'if_label', 'if_score', 'if_flag', 'anomaly', 'anomaly_score', 'anomaly_reasons']);
    const out = new ByteWriter();
    const csv = new ScoredCsvWriter(out, ['cpu, %']);
    const h = Buffer.from('"cpu, %"');
    csv.header(h, 0, h.length);
    const r = Buffer.from('99');
    csv.row(r, 0, r.length, rowScore(1, { z: Float64Array.of(9), zFlag: Int8Array.of(1), anomaly: true, reasons: 'cpu, % z=9.0' }));
    expect(out.take().toString()).toBe(
      '"cpu, %","cpu, %_zscore","cpu, %_zscore_flag",if_label,if_score,if_flag,anomaly,anomaly_score,anomaly_reasons\n' +
        '99,9.0000,True,1,0.0000,False,True,0.0000,"cpu, % z=9.0"\n',
    );
  });
});
