import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertValidKey, InvalidKeyError, ObjectBody, ObjectInfo, ObjectStore, StorageError } from './object-store';

const TMP_SUFFIX = '.tmp-';

/**
 * Objects as files under a root directory, keys as relative paths. Writes go to a temporary file in
 * the same directory and are renamed into place, so a reader or a crash never sees half an object.
 */
export class LocalDirectoryStore extends ObjectStore {
  readonly location: string;
  /** Directories known to exist: a put into them needs no mkdir system call. */
  private readonly dirs = new Set<string>();
  private readonly logger = new Logger('Storage');

  constructor(private readonly root: string) {
    super();
    this.root = path.resolve(root);
    this.location = `file://${this.root}`;
  }

  private pathOf(key: string): string {
    assertValidKey(key);
    if (key.includes('\\')) throw new InvalidKeyError(key, 'backslashes are not allowed');
    const full = path.resolve(this.root, key);
    if (!full.startsWith(this.root + path.sep)) throw new InvalidKeyError(key, 'escapes the data directory');
    return full;
  }

  async getStream(key: string): Promise<Readable | null> {
    return (await this.open(key))?.stream ?? null;
  }

  async open(key: string): Promise<{ stream: Readable; info: ObjectInfo } | null> {
    const file = this.pathOf(key);
    let handle: import('node:fs/promises').FileHandle | undefined;
    try {
      handle = await fs.open(file, 'r');
      // The open handle keeps this version readable even if a writer renames a new one into place.
      const st = await handle.stat();
      if (!st.isFile()) {
        await handle.close();
        return null;
      }
      return { stream: handle.createReadStream({ highWaterMark: 1 << 20 }), info: infoOf(key, st) };
    } catch (err) {
      await handle?.close().catch(() => undefined);
      if (isMissing(err)) return null;
      throw new StorageError('get', key, err);
    }
  }

  async getText(key: string): Promise<string | null> {
    const file = this.pathOf(key);
    try {
      return await fs.readFile(file, 'utf8');
    } catch (err) {
      if (isMissing(err)) return null;
      throw new StorageError('get', key, err);
    }
  }

  async put(key: string, body: ObjectBody, _contentType?: string): Promise<void> {
    const file = this.pathOf(key);
    const tmp = `${file}${TMP_SUFFIX}${randomBytes(6).toString('hex')}`;
    try {
      // Opened before the body is consumed, so a missing directory costs a retry, not the stream.
      const handle = await this.openForWrite(tmp);
      if (body instanceof Readable) {
        await pipeline(body, handle.createWriteStream()); // the stream closes the handle, also on error
      } else {
        try {
          await handle.writeFile(body);
        } finally {
          await handle.close();
        }
      }
      await fs.rename(tmp, file);
    } catch (err) {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      throw new StorageError('put', key, err);
    }
  }

  /** Directories are created on first use and remembered, so most writes skip the mkdir call. */
  private async openForWrite(tmp: string): Promise<import('node:fs/promises').FileHandle> {
    const dir = path.dirname(tmp);
    if (this.dirs.has(dir)) {
      try {
        return await fs.open(tmp, 'w');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        this.dirs.delete(dir); // removed behind our back: create it again
      }
    }
    await fs.mkdir(dir, { recursive: true });
    this.dirs.add(dir);
    return fs.open(tmp, 'w');
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    // Walk only the directory that holds the prefix: "processed/abc" starts in "processed/".
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash >= 0 ? prefix.slice(0, slash + 1) : '';
    const startDir = dirKey ? path.join(this.root, dirKey) : this.root;
    const keys: string[] = [];
    await this.collect(startDir, dirKey, prefix, keys);
    keys.sort(compareKeys);
    for (const key of keys) {
      let info: ObjectInfo | null;
      try {
        info = await this.head(key);
      } catch (err) {
        // A file no key can name here (a backslash in its name): one warning, not a failed listing
        // that would hold up every other file.
        if (!(err instanceof InvalidKeyError)) throw err;
        this.warnOnce(key, err.message);
        continue;
      }
      if (info) yield info;
    }
  }

  private readonly warned = new Set<string>();

  private warnOnce(key: string, why: string): void {
    if (this.warned.has(key)) return;
    if (this.warned.size >= 1000) this.warned.clear();
    this.warned.add(key);
    this.logger.warn(`Skipping ${JSON.stringify(key)} in ${this.location}: ${why} (rename the file to have it processed)`);
  }

  private async collect(dir: string, dirKey: string, prefix: string, out: string[]): Promise<void> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return;
      throw new StorageError('list', prefix, err);
    }
    for (const entry of entries) {
      const key = dirKey + entry.name;
      if (entry.isDirectory()) {
        const sub = key + '/';
        if (sub.startsWith(prefix) || prefix.startsWith(sub)) {
          await this.collect(path.join(dir, entry.name), sub, prefix, out);
        }
      } else if (entry.isFile() && key.startsWith(prefix) && !entry.name.includes(TMP_SUFFIX)) {
        out.push(key);
      }
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const file = this.pathOf(key);
    try {
      const st = await fs.stat(file);
      if (!st.isFile()) return null;
      return infoOf(key, st);
    } catch (err) {
      if (isMissing(err)) return null;
      throw new StorageError('head', key, err);
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    try {
      await fs.rm(file, { force: true });
    } catch (err) {
      throw new StorageError('delete', key, err);
    }
  }

  async ping(): Promise<void> {
    try {
      await fs.mkdir(this.root, { recursive: true });
      await fs.access(this.root, fs.constants.R_OK | fs.constants.W_OK);
    } catch (err) {
      throw new StorageError('ping', '', err);
    }
  }
}

/** A file's ETag stands for its version: size, modification time and inode change with a rewrite. */
function infoOf(key: string, st: import('node:fs').Stats): ObjectInfo {
  const etag = createHash('md5').update(`${st.size}:${st.mtimeMs}:${st.ino}`).digest('hex');
  return { key, size: st.size, etag, lastModified: st.mtime };
}

/** S3 lists keys in UTF-8 byte order; sort the same way so both adapters agree. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}
