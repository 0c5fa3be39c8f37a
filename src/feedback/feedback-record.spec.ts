import { feedbackKey, FeedbackError, newFeedbackId, parseRecord, recordOf } from './feedback-record';
import { scoredKey } from './feedback.service';

const now = new Date('2026-02-24T10:15:02.123Z');

describe('feedback records', () => {
  it('makes sortable ids that are their keys', () => {
    const id = newFeedbackId(now);
    expect(id).toMatch(/^20260224T101502123Z-[0-9a-f]{8}$/);
    expect(feedbackKey(id)).toBe(`state/feedback/${id}.json`);
  });

  it('normalises periods and rows, and says what a verdict lacks', () => {
    const r = recordOf({ verdict: 'ignore', from: '2026-02-24 09:00:00', to: '1771930800', note: 'x' }, 'id1', now);
    expect(r).toMatchObject({ id: 'id1', verdict: 'ignore', from: '2026-02-24T09:00:00.000Z', to: '2026-02-24T11:00:00.000Z', note: 'x' });
    expect(recordOf({ verdict: 'normal', source_file: 'raw/a.csv', rows: [5, 1, 5] }, 'id2', now).rows).toEqual([1, 5]);
    const fails = (req: object, message: RegExp) => expect(() => recordOf(req as never, 'id', now)).toThrow(message);
    fails({ verdict: 'anomaly' }, /needs a period \(from\/to\) or source_file with rows/);
    fails({ verdict: 'anomaly', from: '2026-02-24T09:00:00Z' }, /from and to go together/);
    fails({ verdict: 'normal', source_file: 'raw/a.csv' }, /needs rows or from\/to/);
    fails({ verdict: 'ignore', from: '2026-01-01T00:00:00Z', to: '2026-12-31T00:00:00Z' }, /longer than 92 days/);
    expect(() => recordOf({ verdict: 'ignore' } as never, 'id', now)).toThrow(FeedbackError);
  });

  it('reads a stored record back with the same checks, and refuses one whose id is not its key', () => {
    const r = recordOf({ verdict: 'anomaly', from: '2026-02-24T09:00:00Z', to: '2026-02-24T10:00:00Z' }, 'id3', now);
    expect(parseRecord(JSON.stringify(r), feedbackKey('id3'))).toEqual(r);
    expect(() => parseRecord(JSON.stringify(r), feedbackKey('other'))).toThrow(/does not match its key/);
    expect(() => parseRecord('{', feedbackKey('id3'))).toThrow(/not valid JSON/);
    expect(() => parseRecord(JSON.stringify({ ...r, verdict: 'later' }), feedbackKey('id3'))).toThrow(/verdict must be one of/);
    expect(() => parseRecord(JSON.stringify({ ...r, rows: [-1] }), feedbackKey('id3'))).toThrow(/rows must be/);
  });

  it('names the scored file of a batch however it is given, and nothing outside', () => {
    expect(scoredKey('raw/a.csv', 'raw/', '.csv')).toBe('processed/a.csv');
    expect(scoredKey('processed/site/a.csv', 'raw/', '.csv')).toBe('processed/site/a.csv');
    expect(scoredKey('a.csv', 'raw/', '.csv')).toBe('processed/a.csv');
    for (const bad of ['../x.csv', 'raw/', '/etc/passwd', 'raw/a.txt', 'processed/.csv', 'a\0.csv']) expect(scoredKey(bad, 'raw/', '.csv')).toBeNull();
  });
});
