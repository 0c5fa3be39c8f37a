import { batchKeys, isRawBatchKey } from './batch-keys';

describe('batch keys', () => {
  it('maps a raw key to its outputs, sub-folders kept', () => {
    expect(batchKeys('raw/site-a/x.csv')).toMatchObject({ name: 'site-a/x', output: 'processed/site-a/x.csv', summary: 'processed/site-a/x_summary.json', error: 'processed/site-a/x_error.json' });
  });

  it('gives keys that differ only in the case of the suffix outputs of their own', () => {
    expect(isRawBatchKey('raw/x.CSV')).toBe(true);
    const lower = batchKeys('raw/x.csv');
    const upper = batchKeys('raw/x.CSV');
    expect(upper.output).toBe('processed/x.CSV.csv');
    expect(new Set([lower.output, lower.summary, upper.output, upper.summary]).size).toBe(4);
  });

  it('marks names whose outputs a file system would refuse, and gives their error report a name it takes', () => {
    expect(batchKeys(`raw/${'x'.repeat(200)}.csv`).tooLong).toBe(false);
    const keys = batchKeys(`raw/site/${'é'.repeat(120)}.csv`); // 240 bytes of name
    expect(keys.tooLong).toBe(true);
    const base = keys.error.slice(keys.error.lastIndexOf('/') + 1);
    expect(keys.error.startsWith('processed/site/')).toBe(true);
    expect(base).toMatch(/~[0-9a-f]{12}_error\.json$/);
    expect(Buffer.byteLength(base) + 17).toBeLessThanOrEqual(255);
    expect(batchKeys(`raw/site/${'é'.repeat(120)}.csv`).error).toBe(keys.error); // the same name, the same report
  });
});
