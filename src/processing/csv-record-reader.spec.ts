import { parse as parseCsv } from 'csv-parse/sync';
import { createRng } from '../detection/seeded-random';
import { BadInputError } from './bad-input.error';
import { CsvRecord, CsvRecordReader, DEFAULT_READER_LIMITS } from './csv-record-reader';

interface Seen {
  line: number;
  fields: string[];
  raw: string;
}

function read(input: Buffer | string, chunkSizes: number[] = [1 << 20], limits = DEFAULT_READER_LIMITS): Seen[] {
  const data = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const seen: Seen[] = [];
  const reader = new CsvRecordReader(
    (r: CsvRecord) => seen.push({ line: r.line, fields: r.fields(), raw: r.buf.toString('utf8', r.start, r.end) }),
    limits,
  );
  let pos = 0;
  let i = 0;
  while (pos < data.length) {
    const size = chunkSizes[i++ % chunkSizes.length];
    reader.push(data.subarray(pos, pos + size));
    pos += size;
  }
  reader.end();
  return seen;
}

function failure(input: Buffer | string, limits = DEFAULT_READER_LIMITS): BadInputError {
  try {
    read(input, [1 << 20], limits);
  } catch (err) {
    if (err instanceof BadInputError) return err;
    throw err;
  }
  throw new Error('expected a BadInputError');
}

describe('CsvRecordReader', () => {
  it('splits plain records, with and without a final line break', () => {
    expect(read('a,b\n1,2\n3,4\n')).toEqual([
      { line: 1, fields: ['a', 'b'], raw: 'a,b' },
      { line: 2, fields: ['1', '2'], raw: '1,2' },
      { line: 3, fields: ['3', '4'], raw: '3,4' },
    ]);
    expect(read('a,b\n1,2').map((r) => r.fields)).toEqual([['a', 'b'], ['1', '2']]);
  });

  it('drops a UTF-8 BOM, strips CR of CRLF, skips blank lines but counts them', () => {
    const seen = read('\ufeffa,b\r\n1,2\r\n\r\n  \n3,4\r\n');
    expect(seen.map((r) => r.fields)).toEqual([['a', 'b'], ['1', '2'], ['3', '4']]);
    expect(seen.map((r) => r.line)).toEqual([1, 2, 5]);
    expect(seen[0].raw).toBe('a,b');
  });

  it('keeps empty fields', () => {
    expect(read('a,b,c\n,,\n1,,3\n').slice(1).map((r) => r.fields)).toEqual([['', '', ''], ['1', '', '3']]);
  });

  it('decodes quoted fields with commas, doubled quotes and line breaks, keeping the raw bytes', () => {
    const seen = read('name,v\n"Smith, J.",1\n"say ""hi""",2\n"two\nlines",3\nplain,4\n');
    expect(seen.map((r) => r.fields)).toEqual([
      ['name', 'v'],
      ['Smith, J.', '1'],
      ['say "hi"', '2'],
      ['two\nlines', '3'],
      ['plain', '4'],
    ]);
    expect(seen.map((r) => r.line)).toEqual([1, 2, 3, 4, 6]);
    expect(seen[3].raw).toBe('"two\nlines",3');
  });

  it('reads numbers from plain and quoted fields alike', () => {
    const numbers: number[] = [];
    const reader = new CsvRecordReader((r) => numbers.push(r.number(1)));
    reader.push(Buffer.from('x,1.5\n"a,b", 2.25 \nq,"-3"\nz,NA\n'));
    reader.end();
    expect(numbers.slice(0, 3)).toEqual([1.5, 2.25, -3]);
    expect(numbers[3]).toBeNaN();
  });

  it('gives the same records as csv-parse on random files, at any chunking', () => {
    const rng = createRng(5);
    const pieces = ['1.5', '-2', 'abc', '', 'é', '"q,1"', '"a""b"', '"x\ny"', '"x\r\ny"', ' 7 ', '日本'];
    for (let f = 0; f < 200; f++) {
      const cols = 1 + Math.floor(rng() * 5);
      const rows: string[] = [];
      for (let r = 0; r < 1 + Math.floor(rng() * 30); r++) {
        const cells: string[] = [];
        for (let c = 0; c < cols; c++) cells.push(pieces[Math.floor(rng() * pieces.length)]);
        const line = cells.join(',');
        if (line.trim() === '') continue; // blank lines: csv-parse keeps them, we skip them
        rows.push(line);
      }
      const eol = rng() < 0.5 ? '\n' : '\r\n';
      const text = rows.join(eol) + (rng() < 0.5 ? eol : '');
      const expected: string[][] = parseCsv(text, { relax_column_count: true });
      const chunk = 1 + Math.floor(rng() * 16);
      const got = read(text, [chunk, 3, 1, 64]);
      expect(got.map((r) => r.fields)).toEqual(expected);
    }
  });

  it('refuses bytes that are not UTF-8, naming the line', () => {
    const data = Buffer.concat([Buffer.from('a,b\n1,2\n3,'), Buffer.from([0xff, 0xfe]), Buffer.from('\n5,6\n')]);
    const err = failure(data);
    expect(err.line).toBe(3);
    expect(err.message).toMatch(/UTF-8/);
  });

  it('accepts a multi-byte character split across chunks', () => {
    expect(read('a,b\né,ü\n', [5, 1]).map((r) => r.fields)).toEqual([['a', 'b'], ['é', 'ü']]);
  });

  it('refuses NUL bytes (binary data)', () => {
    expect(failure(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d])).message).toMatch(/NUL|UTF-8/);
    expect(failure(Buffer.from('a,b\n1,\u00002\n')).line).toBe(2);
  });

  it('refuses an unclosed or malformed quote, naming the line', () => {
    const unclosed = failure('a,b\n1,2\n"open,3\n4,5\n');
    expect(unclosed.line).toBe(3);
    expect(unclosed.message).toMatch(/never closed/);
    const malformed = failure('a,b\n1,2\n"x"y,3\n');
    expect(malformed.line).toBe(3);
  });

  it('refuses a record longer than the limit, without holding more than that', () => {
    const limits = { maxFields: 10, maxRecordBytes: 1000 };
    const err = failure('a,b\n' + 'x'.repeat(5000), limits);
    expect(err.line).toBe(2);
    expect(err.message).toMatch(/longer than 1000 bytes/);
  });

  it('refuses a record wider than the limit', () => {
    const header = Array.from({ length: 10000 }, (_, i) => `c${i}`).join(',');
    const err = failure(header + '\n');
    expect(err.line).toBe(1);
    expect(err.message).toMatch(/10000 fields; at most 1000/);
  });
});
