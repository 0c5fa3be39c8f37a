import { decodeS3Key, parseS3Event } from './s3-event';

describe('decodeS3Key', () => {
  it('decodes as S3 encodes: + is a space, %XX are UTF-8 bytes, %2B is a plus', () => {
    expect(decodeS3Key('raw/my+batch+1.csv')).toBe('raw/my batch 1.csv');
    expect(decodeS3Key('raw/caf%C3%A9+%E2%82%AC.csv')).toBe('raw/café €.csv');
    expect(decodeS3Key('raw/a%2Bb.csv')).toBe('raw/a+b.csv');
    expect(decodeS3Key('raw/%E6%B8%A9%E5%BA%A6.csv')).toBe('raw/温度.csv');
  });

  it('throws on bytes that are not UTF-8', () => {
    expect(() => decodeS3Key('raw/%FF.csv')).toThrow(URIError);
  });
});

describe('parseS3Event', () => {
  it('reads records with eventName, bucket, decoded key, eTag without quotes and sequencer', () => {
    const event = parseS3Event(
      JSON.stringify({
        Records: [
          { eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 'raw/a+b.csv', eTag: '"abc"', sequencer: '0A' } } },
          { eventName: 'ObjectCreated:Copy', s3: { bucket: { name: 'b' }, object: { key: 'raw/%FF.csv' } } },
        ],
      }),
    );
    expect(event).toEqual({
      kind: 'records',
      records: [{ eventName: 'ObjectCreated:Put', bucket: 'b', key: 'raw/a b.csv', encodedKey: 'raw/a+b.csv', etag: 'abc', sequencer: '0A' }],
      undecodable: [{ eventName: 'ObjectCreated:Copy', bucket: 'b', encodedKey: 'raw/%FF.csv', error: expect.any(String) }],
    });
  });

  it('recognises s3:TestEvent', () => {
    expect(parseS3Event('{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"}')).toEqual({ kind: 'test' });
  });

  it.each(['not json', '[]', '"text"', '{"Records":"x"}', '{}'])('calls %j something other than an S3 event', (msg) => {
    expect(parseS3Event(msg).kind).toBe('other');
  });
});
