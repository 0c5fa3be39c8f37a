import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { InvalidKeyError, ObjectStore } from '../../src/storage/object-store';

/**
 * The behaviour every ObjectStore adapter promises, run against each adapter by its own spec file.
 * `make` returns a store on an empty bucket/directory for every test.
 */
export function objectStoreContract(name: string, make: () => Promise<ObjectStore>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let store: ObjectStore;
    beforeEach(async () => {
      store = await make();
    });

    it('round-trips text and reports its size and etag', async () => {
      await store.put('processed/a.json', '{"x":1}', 'application/json');
      expect(await store.getText('processed/a.json')).toBe('{"x":1}');
      const info = await store.head('processed/a.json');
      expect(info).toMatchObject({ key: 'processed/a.json', size: 7 });
      expect(info!.etag).toMatch(/^[0-9a-f-]+$/);
      await store.put('processed/a.json', '{"x":22}');
      expect(await store.getText('processed/a.json')).toBe('{"x":22}');
    });

    it('round-trips a Buffer and a 50 MB stream byte for byte', async () => {
      const small = Buffer.from([0, 1, 2, 255, 254]);
      await store.put('raw/bytes.bin', small);
      expect(await readAll(await store.getStream('raw/bytes.bin'))).toEqual(small);

      const chunk = randomBytes(1 << 20);
      const total = 50;
      const expected = createHash('sha256');
      for (let i = 0; i < total; i++) expected.update(chunk).update(Buffer.from([i]));
      const source = Readable.from(
        (function* () {
          for (let i = 0; i < total; i++) {
            yield chunk;
            yield Buffer.from([i]);
          }
        })(),
      );
      await store.put('raw/big.bin', source, 'application/octet-stream');
      const got = createHash('sha256');
      let size = 0;
      for await (const part of (await store.getStream('raw/big.bin'))!) {
        got.update(part as Buffer);
        size += (part as Buffer).length;
      }
      expect(size).toBe(total * ((1 << 20) + 1));
      expect(got.digest('hex')).toBe(expected.digest('hex'));
      expect((await store.head('raw/big.bin'))!.size).toBe(size);
    }, 120000);

    it('lists 2,500 keys across pages, in key order, each exactly once', async () => {
      const keys = Array.from({ length: 2500 }, (_, i) => `processed/batch_${String(i).padStart(5, '0')}.csv`);
      await runLimited(keys, 32, (k) => store.put(k, 'x'));
      await store.put('raw/other.csv', 'y');
      const listed: string[] = [];
      for await (const info of store.list('processed/')) listed.push(info.key);
      expect(listed).toEqual(keys);
    }, 120000);

    it('pages in byte order when names differ only after a shared stem ("x.csv" beside "x_summary.json")', async () => {
      const keys: string[] = [];
      for (let i = 0; i < 700; i++) keys.push(`processed/b${i}.csv`, `processed/b${i}_summary.json`);
      await runLimited(keys, 32, (k) => store.put(k, '1'));
      const listed: string[] = [];
      for await (const info of store.list('processed/')) listed.push(info.key);
      expect(listed).toEqual([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    }, 120000);

    it('lists by prefix, including partial names and nested folders', async () => {
      await Promise.all(
        ['raw/a.csv', 'raw/ab.csv', 'raw/b.csv', 'raw/sub/c.csv', 'processed/a.csv', 'rawish.csv'].map((k) =>
          store.put(k, k),
        ),
      );
      const list = async (p: string) => {
        const out: string[] = [];
        for await (const i of store.list(p)) out.push(i.key);
        return out;
      };
      expect(await list('raw/')).toEqual(['raw/a.csv', 'raw/ab.csv', 'raw/b.csv', 'raw/sub/c.csv']);
      expect(await list('raw/a')).toEqual(['raw/a.csv', 'raw/ab.csv']);
      expect(await list('state/')).toEqual([]);
    });

    it('opens an object with the ETag and size of the version it streams', async () => {
      await store.put('raw/v.csv', 'version one');
      const opened = await store.open('raw/v.csv');
      expect(opened!.info).toMatchObject({ key: 'raw/v.csv', size: 11, etag: (await store.head('raw/v.csv'))!.etag });
      expect((await readAll(opened!.stream)).toString()).toBe('version one');
      expect(await store.open('raw/none.csv')).toBeNull();
    });

    it('answers a missing key with null, and deleting it is not an error', async () => {
      expect(await store.getText('state/missing.json')).toBeNull();
      expect(await store.getStream('state/missing.json')).toBeNull();
      expect(await store.head('state/missing.json')).toBeNull();
      await expect(store.delete('state/missing.json')).resolves.toBeUndefined();
      await store.put('state/here.json', '1');
      await store.delete('state/here.json');
      expect(await store.head('state/here.json')).toBeNull();
    });

    it('keeps keys with spaces and non-ASCII characters', async () => {
      const keys = ['raw/sensor batch 1.csv', 'raw/température été.csv', 'raw/数据+plus%percent.csv'];
      for (const k of keys) await store.put(k, `body of ${k}`);
      for (const k of keys) expect(await store.getText(k)).toBe(`body of ${k}`);
      const listed: string[] = [];
      for await (const i of store.list('raw/')) listed.push(i.key);
      expect(listed.sort()).toEqual([...keys].sort());
    });

    it('takes concurrent writes to different keys', async () => {
      const keys = Array.from({ length: 64 }, (_, i) => `processed/c${i}.json`);
      await Promise.all(keys.map((k, i) => store.put(k, JSON.stringify({ i }))));
      const bodies = await Promise.all(keys.map((k) => store.getText(k)));
      expect(bodies.map((b) => JSON.parse(b!).i)).toEqual(keys.map((_, i) => i));
    });

    it('rejects keys that escape the bucket layout', async () => {
      for (const bad of ['../outside.csv', 'raw/../../etc/passwd', '/etc/passwd', '', 'raw/./x.csv']) {
        await expect(store.put(bad, 'x')).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(store.getText(bad)).rejects.toBeInstanceOf(InvalidKeyError);
      }
    });

    it('answers a ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}

async function readAll(stream: Readable | null): Promise<Buffer> {
  if (!stream) throw new Error('no stream');
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

async function runLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}
