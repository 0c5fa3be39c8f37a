import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { LocalDirectoryStore } from '../../src/storage/local-directory.store';
import { InvalidKeyError, StorageError } from '../../src/storage/object-store';
import { objectStoreContract } from './object-store.contract';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'store-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true }))));

objectStoreContract('local directory', async () => new LocalDirectoryStore(await tempDir()));

describe('LocalDirectoryStore specifics', () => {
  it('lays keys out as files under the data directory', async () => {
    const dir = await tempDir();
    await new LocalDirectoryStore(dir).put('processed/x_summary.json', '{}');
    expect(await fs.readFile(path.join(dir, 'processed', 'x_summary.json'), 'utf8')).toBe('{}');
  });

  it('leaves the previous object intact when a streamed write fails midway', async () => {
    const dir = await tempDir();
    const store = new LocalDirectoryStore(dir);
    await store.put('processed/a.csv', 'old');
    const failing = new Readable({
      read() {
        this.push('partial data');
        this.destroy(new Error('source broke'));
      },
    });
    await expect(store.put('processed/a.csv', failing)).rejects.toBeInstanceOf(StorageError);
    expect(await store.getText('processed/a.csv')).toBe('old');
    expect(await fs.readdir(path.join(dir, 'processed'))).toEqual(['a.csv']);
  });

  it('rejects backslashes and a symlinked escape is not followed by key syntax', async () => {
    const store = new LocalDirectoryStore(await tempDir());
    await expect(store.put('raw\\..\\..\\x.csv', 'x')).rejects.toBeInstanceOf(InvalidKeyError);
  });

  it('lists the other files when one has a name no key can have (a backslash)', async () => {
    const dir = await tempDir();
    const store = new LocalDirectoryStore(dir);
    await store.put('raw/a.csv', 'a');
    await fs.writeFile(path.join(dir, 'raw', 'b\\c.csv'), 'b');
    await store.put('raw/d.csv', 'd');
    const keys: string[] = [];
    for await (const info of store.list('raw/')) keys.push(info.key);
    expect(keys).toEqual(['raw/a.csv', 'raw/d.csv']);
  });
});

describe('LocalDirectoryStore directories', () => {
  it('writes again after its directory was removed behind its back', async () => {
    const dir = await tempDir();
    const store = new LocalDirectoryStore(dir);
    await store.put('processed/a.csv', 'one');
    await fs.rm(path.join(dir, 'processed'), { recursive: true });
    await store.put('processed/b.csv', Readable.from(['two']));
    expect(await store.getText('processed/b.csv')).toBe('two');
  });

  it('opens a version together with its ETag', async () => {
    const store = new LocalDirectoryStore(await tempDir());
    await store.put('raw/x.csv', 'abc');
    const opened = await store.open('raw/x.csv');
    expect(opened!.info).toEqual(await store.head('raw/x.csv'));
    opened!.stream.destroy();
    expect(await store.open('raw/missing.csv')).toBeNull();
  });
});
