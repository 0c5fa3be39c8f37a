import { parseTimestamp } from './timestamp-parser';

describe('parseTimestamp', () => {
  it.each([
    ['2024-03-01 12:00:00', Date.UTC(2024, 2, 1, 12)],
    ['2024-03-01T12:00:00.250Z', Date.UTC(2024, 2, 1, 12, 0, 0, 250)],
    ['2024-03-01T12:00:00+02:00', Date.UTC(2024, 2, 1, 10)],
    ['2024-03-01T12:00-0130', Date.UTC(2024, 2, 1, 13, 30)],
    ['2024-03-01', Date.UTC(2024, 2, 1)],
    ['1709294400', Date.UTC(2024, 2, 1, 12)],
    ['1709294400000', Date.UTC(2024, 2, 1, 12)],
    [' 2014-04-10 07:15:00 ', Date.UTC(2014, 3, 10, 7, 15)],
  ])('reads %s', (cell, ms) => {
    expect(parseTimestamp(cell)).toBe(ms);
  });

  it.each(['', 'yesterday', 'NaN', '-'])('gives NaN for %j', (cell) => {
    expect(parseTimestamp(cell)).toBeNaN();
  });
});
