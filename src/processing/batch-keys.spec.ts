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
});
