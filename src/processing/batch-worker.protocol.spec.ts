import { RunningStats } from '../baseline/running-stats';
import { InvalidKeyError, StorageError } from '../storage/object-store';
import { BadInputError } from './bad-input.error';
import { errorReport } from './batch-error-report';
import { batchKeys } from './batch-keys';
import { BatchWorkerError, errorData, reviveError, reviveOutcome } from './batch-worker.protocol';
import { ScoringOutcome } from './csv-scorer';

/** As the error arrives on the other thread. */
const across = (err: unknown) => reviveError(structuredClone(errorData(err)));
const keys = batchKeys('raw/x.csv');

describe('batch worker protocol', () => {
  it('brings bad input back as BadInputError with its line: final, reported with the line', () => {
    const back = across(new BadInputError('expected 5 fields, found 6', 12));
    expect(back).toBeInstanceOf(BadInputError);
    expect(back).toMatchObject({ line: 12, reason: 'expected 5 fields, found 6', message: 'line 12: expected 5 fields, found 6' });
    expect(errorReport(keys, back, 1)).toMatchObject({ kind: 'bad-input', line: 12, retryable: false, error: 'expected 5 fields, found 6' });
  });

  it('brings a storage failure back as StorageError with the same message: retryable', () => {
    const original = new StorageError('get', 'raw/x.csv', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9000'), { name: 'TimeoutError' }));
    const back = across(original);
    expect(back).toBeInstanceOf(StorageError);
    expect(back.message).toBe(original.message);
    expect(back).toMatchObject({ operation: 'get', key: 'raw/x.csv' });
    expect(errorReport(keys, back, 8)).toMatchObject({ kind: 'processing', retryable: true, error: original.message });
  });

  it('brings an invalid key back as InvalidKeyError, and anything else as BatchWorkerError naming it', () => {
    const invalid = across(new InvalidKeyError('../x', 'escapes the store'));
    expect(invalid).toBeInstanceOf(InvalidKeyError);
    expect(invalid.message).toBe('Invalid object key "../x": escapes the store');
    const other = across(new RangeError('reference window row 9 out of range'));
    expect(other).toBeInstanceOf(BatchWorkerError);
    expect(other.message).toBe('RangeError: reference window row 9 out of range');
    expect(errorReport(keys, other, 8).retryable).toBe(false);
    expect(across('a string').message).toBe('Error: a string');
  });

  it('revives statistics bit for bit, the full-precision mean included', () => {
    const accepted = RunningStats.of([1e9 + 0.1, 1e9 + 0.2, 1e9 + 0.7, 1e9 - 0.3]);
    const rejected = RunningStats.of([42]);
    const outcome = { contribution: { channels: [{ channel: 't', accepted, rejected }], normalRows: [], windowColumns: ['t'] } } as unknown as ScoringOutcome;
    const back = reviveOutcome(structuredClone(outcome));
    const [ch] = back.contribution.channels;
    expect(ch.accepted).toBeInstanceOf(RunningStats);
    expect(ch.accepted).toEqual(accepted);
    expect(Object.is(ch.accepted.mean, accepted.mean)).toBe(true);
    // Merging the revived copy goes on exactly as merging the original would.
    const a = accepted.clone();
    a.merge(RunningStats.of([5, 6]));
    const b = ch.accepted;
    b.merge(RunningStats.of([5, 6]));
    expect(b).toEqual(a);
    expect(ch.rejected.count).toBe(1);
  });
});
