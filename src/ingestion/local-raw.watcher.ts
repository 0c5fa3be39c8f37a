import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { FSWatcher, promises as fs, watch } from 'node:fs';
import * as path from 'node:path';
import { AppConfig } from '../config/app-config';
import { ObjectStore } from '../storage/object-store';
import { BatchSink } from './batch-sink';

/** Timings of the local watcher; a class so tests can override the provider with faster values. */
export class LocalRawWatcherOptions {
  /** A file is enqueued once its size and modification time have not changed for this long. */
  stableMs = 1000;
  /** How often pending files are re-examined while they settle. */
  settleCheckMs = 250;
  /** How often the directory is listed where fs.watch is not available (or failed). */
  pollIntervalMs = 2000;
  /** How often it is listed anyway while fs.watch works, for events it may have missed. */
  rescanIntervalMs = 30_000;
}

interface Pending {
  signature: string;
  since: number;
}

/**
 * Local mode's stand-in for S3 + SNS: watches DATA_DIR/raw/ and hands each new or rewritten
 * `raw/<name>.csv` to the batch sink once, with its etag. Files count as written once their size
 * and mtime stay the same for `stableMs` (tools that write in place leave half files around for a
 * while; temp + rename shows up complete). fs.watch is only a hint to look sooner: a periodic
 * listing is the source of truth. Files already there at start-up are left to processing's
 * catch-up scan.
 */
@Injectable()
export class LocalRawWatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(LocalRawWatcher.name);
  private readonly dir: string;
  private readonly dirKey: string;
  private readonly namePrefix: string;
  /** File name -> the signature last handed over (or found at start-up). */
  private readonly known = new Map<string, string>();
  private readonly pending = new Map<string, Pending>();
  private watcher?: FSWatcher;
  private pollTimer?: NodeJS.Timeout;
  private settleTimer?: NodeJS.Timeout;
  private busy = false;
  private started = false;
  private stopped = false;

  constructor(
    private readonly config: AppConfig,
    private readonly store: ObjectStore,
    private readonly sink: BatchSink,
    private readonly options: LocalRawWatcherOptions,
  ) {
    const prefix = config.ingestion.rawPrefix;
    const slash = prefix.lastIndexOf('/');
    this.dirKey = prefix.slice(0, slash + 1);
    this.namePrefix = prefix.slice(slash + 1);
    this.dir = path.join(config.storage.dataDir, this.dirKey);
  }

  get enabled(): boolean {
    return this.config.ingestion.localWatch && !this.config.storage.bucket;
  }

  /** Files seen changing that are not handed over yet (waiting to settle). */
  get pendingCount(): number {
    return this.pending.size;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.ingestion.localWatch) return;
    if (this.config.storage.bucket) {
      this.logger.warn('LOCAL_WATCH is on but BUCKET_NAME is set: the local watcher only runs in local mode');
      return;
    }
    await fs.mkdir(this.dir, { recursive: true });
    for (const [name, signature] of await this.listDir()) this.known.set(name, signature);
    try {
      this.watcher = watch(this.dir, { persistent: false }, (_event, filename) => {
        void this.guard('fs.watch event', () => this.hint(filename ?? undefined));
      });
      this.watcher.on('error', (err) => {
        const failed = this.watcher;
        this.watcher = undefined;
        void this.guard('closing fs.watch', () => {
          failed?.close();
          this.logger.warn(`fs.watch on ${this.dir} failed (${err.message}); relying on the periodic listing`);
        });
      });
    } catch (err) {
      this.logger.warn(`fs.watch is not available on ${this.dir} (${(err as Error).message}); relying on the periodic listing`);
    }
    this.started = true;
    this.schedulePoll();
    this.logger.log(`Watching ${this.dir} for new ${this.config.ingestion.rawSuffix} files (local mode)`);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    this.watcher?.close();
    clearTimeout(this.pollTimer);
    clearTimeout(this.settleTimer);
  }

  private schedulePoll(): void {
    if (this.stopped) return;
    const interval = this.watcher ? this.options.rescanIntervalMs : this.options.pollIntervalMs;
    this.pollTimer = setTimeout(() => void this.guard('listing', () => this.poll()).then(() => this.schedulePoll()), interval);
    this.pollTimer.unref();
  }

  /** Looks at the directory now instead of at the next poll; resolves once that look is done. */
  async poll(): Promise<void> {
    if (!this.started || this.stopped) return;
    let files: Map<string, string>;
    try {
      files = await this.listDir();
    } catch (err) {
      this.logger.warn(`Cannot list ${this.dir}: ${(err as Error).message}`);
      return;
    }
    for (const name of this.known.keys()) if (!files.has(name)) this.known.delete(name);
    for (const [name, signature] of files) this.consider(name, signature);
  }

  private matches(name: string): boolean {
    return (
      name.startsWith(this.namePrefix) &&
      name.toLowerCase().endsWith(this.config.ingestion.rawSuffix.toLowerCase()) &&
      name.length > this.namePrefix.length + this.config.ingestion.rawSuffix.length &&
      !name.startsWith('.')
    );
  }

  private hint(filename?: string): void {
    if (!this.started || this.stopped) return;
    if (!filename) {
      void this.guard('listing', () => this.poll());
      return;
    }
    const name = path.basename(filename);
    if (!this.matches(name)) return;
    void this.guard(`looking at ${name}`, () =>
      fs.stat(path.join(this.dir, name)).then(
        (st) => void (st.isFile() && this.consider(name, signatureOf(st))),
        () => void this.pending.delete(name),
      ),
    );
  }

  private consider(name: string, signature: string): void {
    if (this.known.get(name) === signature) return;
    if (!this.pending.has(name)) this.pending.set(name, { signature, since: Date.now() });
    this.scheduleSettle();
  }

  private scheduleSettle(): void {
    if (this.settleTimer || this.stopped || this.pending.size === 0) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      void this.guard('settling', () => this.settle()).then(() => this.scheduleSettle());
    }, this.options.settleCheckMs);
    this.settleTimer.unref();
  }

  private async settle(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const now = Date.now();
      for (const [name, entry] of [...this.pending]) {
        if (this.stopped) return;
        let signature: string;
        try {
          const st = await fs.stat(path.join(this.dir, name));
          if (!st.isFile()) throw new Error('not a file');
          signature = signatureOf(st);
        } catch {
          this.pending.delete(name); // gone (renamed away, deleted): nothing to do
          continue;
        }
        if (signature !== entry.signature) {
          this.pending.set(name, { signature, since: now });
        } else if (now - entry.since >= this.options.stableMs) {
          if (await this.handOver(name, signature)) this.pending.delete(name);
          else this.pending.set(name, { signature, since: now }); // try again after another stableMs
        }
      }
    } finally {
      this.busy = false;
    }
  }

  /** Returns false when the file should be tried again later. */
  private async handOver(name: string, signature: string): Promise<boolean> {
    if (this.known.get(name) === signature) return true;
    const key = this.dirKey + name;
    try {
      const info = await this.store.head(key);
      if (!info) return true;
      const outcome = this.sink.enqueue({ key, etag: info.etag, source: 'local-watch' });
      this.known.set(name, signature);
      this.logger.log(`New local file ${key} (${info.size} bytes): ${outcome}`);
      return true;
    } catch (err) {
      this.logger.warn(`Could not hand ${key} to processing, will retry: ${(err as Error).message}`);
      return false;
    }
  }

  /**
   * Runs work started from a timer or an event, where nobody awaits it: an error there would be an
   * unhandled rejection, which ends the process. Logged instead; the next poll or settle tries again.
   * Never rejects, even when logging itself fails.
   */
  private async guard(what: string, work: () => void | Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      try {
        this.logger.error(`Local watcher failed while ${what}: ${err instanceof Error ? err.message : String(err)}`);
      } catch {
        // Nowhere left to report it; the watcher carries on.
      }
    }
  }

  private async listDir(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(this.dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
      throw err;
    }
    for (const entry of entries) {
      if (!entry.isFile() || !this.matches(entry.name)) continue;
      try {
        out.set(entry.name, signatureOf(await fs.stat(path.join(this.dir, entry.name))));
      } catch {
        // removed between readdir and stat
      }
    }
    return out;
  }
}

function signatureOf(st: { size: number; mtimeMs: number; ino: number }): string {
  return `${st.size}:${st.mtimeMs}:${st.ino}`;
}
