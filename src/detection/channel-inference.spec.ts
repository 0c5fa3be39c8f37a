import { inferChannels, isIdentifierName, isTimestampName, parseNumber } from './channel-inference';

describe('parseNumber', () => {
  it.each([
    ['1', 1],
    [' -2.5 ', -2.5],
    ['1e3', 1000],
    ['.5', 0.5],
    ['7.', 7],
  ])('parses %p', (s, x) => expect(parseNumber(s)).toBe(x));
  it.each(['', ' ', 'abc', '0x10', 'Infinity', '-inf', 'NaN', '1,5', '1e999', '12abc', undefined])('rejects %p', (s) =>
    expect(parseNumber(s)).toBeNaN(),
  );
});

describe('names', () => {
  it('recognises timestamp-like names', () => {
    for (const n of ['timestamp', 'Time', 'date', 'ts', 'created_at', 'event_time', 'epoch']) expect(isTimestampName(n)).toBe(true);
    for (const n of ['temperature', 'latency_ms', 'status']) expect(isTimestampName(n)).toBe(false);
  });
  it('recognises identifier-like names', () => {
    for (const n of ['id', 'sensor_id', 'sensorId', 'uuid', 'host', 'hostname', 'name', 'Unnamed: 0', 'device_name']) {
      expect(isIdentifierName(n)).toBe(true);
    }
    for (const n of ['humidity', 'idle_pct', 'width', 'hosts_up']) expect(isIdentifierName(n)).toBe(false);
  });
});

describe('inferChannels', () => {
  const header = ['timestamp', 'sensor_id', 'temperature', 'status', 'humidity', 'epoch', 'when', 'blank'];
  const rows = [
    ['2026-02-24T00:10:51.000', '17', '22.1', 'ok', '55', '1771891851', '2026-02-24', ''],
    ['2026-02-24T00:11:51.000', '17', '', 'ok', '56.5', '1771891911', '2026-02-24', ''],
    ['2026-02-24T00:12:51.000', '18', 'NaN', 'warn', '54', '1771891971', '2026-02-25', 'NA'],
  ];

  it('keeps numeric columns, drops timestamp, identifier, text and empty columns', () => {
    const r = inferChannels(header, rows);
    expect(r.channels).toEqual(['temperature', 'humidity']);
    expect(r.indices).toEqual([2, 4]);
    expect(r.entityIndex).toBe(-1);
    expect(Object.fromEntries(r.excluded.map((e) => [e.column, e.reason]))).toEqual({
      timestamp: 'timestamp',
      sensor_id: 'identifier',
      status: 'not numeric',
      epoch: 'timestamp',
      when: 'timestamp',
      blank: 'empty',
    });
  });

  it('the reference header gives the four sensor channels', () => {
    const h = ['timestamp', 'temperature', 'humidity', 'pressure', 'wind_speed'];
    expect(inferChannels(h, [['2026-02-24T00:10:51.000', '22.58', '46.33', '1012.83', '11']]).channels).toEqual(h.slice(1));
  });

  it('tolerates a stray bad cell but not a mostly-text column', () => {
    const many = Array.from({ length: 40 }, (_, i) => [String(i), i === 3 ? 'oops' : String(i * 1.5)]);
    expect(inferChannels(['a', 'b'], many).channels).toEqual(['a', 'b']);
    const half = Array.from({ length: 40 }, (_, i) => [String(i), i % 2 ? 'x' : '1']);
    expect(inferChannels(['a', 'b'], half).channels).toEqual(['a']);
  });

  it('never uses the entity column, even when numeric', () => {
    const r = inferChannels(['rack', 'cpu'], [['1', '50'], ['2', '60']], { entityColumn: 'rack' });
    expect(r.channels).toEqual(['cpu']);
    expect(r.entityIndex).toBe(0);
    expect(r.excluded).toEqual([{ column: 'rack', reason: 'entity' }]);
  });

  it('an allowlist overrides inference and reports missing names', () => {
    const r = inferChannels(header, rows, { channels: ['humidity', 'epoch', 'nope'] });
    expect(r.channels).toEqual(['humidity', 'epoch']);
    expect(r.indices).toEqual([4, 5]);
    expect(r.missing).toEqual(['nope']);
  });

  it('an empty sample gives no channels rather than guessing', () => {
    expect(inferChannels(['a', 'b'], []).channels).toEqual([]);
  });
});
