import { Injectable, Logger, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { BaselineSnapshot } from '../detection/detection.types';
import { MetricsService } from '../metrics/metrics.service';
import { ObjectStore } from '../storage/object-store';
import { BaselineLoadError } from './baseline.errors';
import { AbsorbResult, BaselineState, BaselineStateJson, BaselineStateOptions, ChannelEntry } from './baseline-state';
import { BatchContribution, BatchSource } from './batch-contribution';
import { ExclusionWindow, ExclusionWindows } from './exclusion-windows';
import { readFileIfExists, writeFileAtomic } from './local-file';

export const BASELINE_KEY = 'state/baseline.json';

export interface BaselineStatus {
  /** Where the state was loaded from at start-up. */
  loadedFrom: 'store' | 'local' | 'empty';
  sequence: number;
  absorbed: number;
  /** Changed since the last successful flush to the store. */
  dirty: boolean;
  lastFlushAt?: string;
  lastFlushError?: string;
  consecutiveFlushFailures: number;
}

/**
 * The baseline while the service runs: loaded once at start-up, held in memory as the authority,
 * written to the local `baseline.json` after every fold and flushed to `state/baseline.json` in the
 * store on a schedule and at shutdown.
 *
 * Start-up, in order:
 * - `state/baseline.json` valid: used, unless the local copy is the same history (lineage) with more
 *   absorbs in it (the process stopped before its last flush): then the local copy is used.
 * - `state/baseline.json` missing: the local copy if there is one, else an empty baseline.
 * - `state/baseline.json` corrupt or unreadable: the service says so; it starts from a valid local
 *   copy (a corrupt object is first copied aside to `state/baseline.corrupt-<time>.json`, then
 *   replaced at the next flush), and with no valid local copy it refuses to start — it never
 *   replaces the stored baseline with an empty one. The same holds for a corrupt local copy when the
 *   store has none.
 *
 * Exactly once: `absorb` checks and folds synchronously (JavaScript runs one fold at a time, so
 * concurrent batches fold one after the other, exactly), then waits for the local write. Writes are
 * group-committed: while one is in flight, the folds after it share the next write, which starts
 * only after the previous one finished, so the file never goes backwards.
 */
/** Local copies of the baseline are written at most this often; folds in between share a write. */
const LOCAL_WRITE_GAP_MS = 25;
const MAX_LOCAL_WRITE_GAP_MS = 250;

const sleep = (ms: number) => (ms > 0 ? new Promise<void>((resolve) => setTimeout(resolve, ms)) : Promise.resolve());

@Injectable()
export class BaselineService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(BaselineService.name);
  private state!: BaselineState;
  private loadedFrom: BaselineStatus['loadedFrom'] = 'empty';
  /** `state.version` as of the last successful flush (or of a load that matches the store). */
  private flushedVersion = 0;
  private flushing?: Promise<boolean>;
  private lastFlushAt?: Date;
  private lastFlushError?: string;
  private flushFailures = 0;
  /** A corrupt store object to copy aside before the first flush overwrites it. */
  private corruptToPreserve?: { text: string; key: string };
  private writeInFlight?: Promise<void>;
  private writeNext?: Promise<void>;
  private lastWriteStart = -Infinity;
  private serializeMsAverage = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly config: AppConfig,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.load();
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.state) return;
    await this.localWritesSettled();
    if (this.flushing) await this.flushing;
    const flushed = await this.flush();
    if (this.isDirty()) {
      this.logger.error(`Final flush to ${BASELINE_KEY} failed; the local copy ${this.localPath} holds the latest state and is used at the next start`);
    } else if (flushed) {
      this.logger.log(`Baseline flushed to ${BASELINE_KEY} at shutdown (sequence ${this.state.sequence})`);
    }
  }

  snapshot(): BaselineSnapshot {
    return this.state.snapshot();
  }

  hasAbsorbed(key: string, etag: string): boolean {
    return this.state.hasAbsorbed(key, etag);
  }

  /**
   * Folds one batch in (a duplicate changes nothing) and resolves once the local copy holds it.
   * Rejects when the local write fails; the fold itself stays in memory and is flushed as usual,
   * and a retry of the same batch is then a duplicate.
   */
  async absorb(source: BatchSource, contribution: BatchContribution): Promise<AbsorbResult> {
    const result = this.state.absorb(source, contribution);
    this.logEvents(source, result);
    if (result.status === 'absorbed') await this.persistLocal();
    return result;
  }

  /** Undoes the level re-learnings inside [from, to] (an operator's incident), exactly once per `source`. */
  async undoRelearns(source: BatchSource, from: number, to: number): Promise<AbsorbResult> {
    const result = this.state.undoRelearns(source, from, to);
    this.logEvents(source, result);
    if (result.status === 'absorbed') await this.persistLocal();
    return result;
  }

  /** Rows in `w` are not learned from the next batch on (and, `ignore`, not flagged). */
  addExclusion(w: ExclusionWindow): void {
    this.state.addExclusion(w);
  }

  get exclusions(): ExclusionWindows {
    return this.state.exclusions;
  }

  private logEvents(source: BatchSource, result: AbsorbResult): void {
    for (const event of result.events) {
      if (event.type === 'level-shift') {
        const who = event.entity === undefined ? `"${event.channel}"` : `"${event.channel}" of entity "${event.entity}"`;
        this.logger.warn(
          `Level shift on ${who} (batch ${source.key}): re-learned from mean ${fmt(event.before.mean)} std ${fmt(event.before.std)} ` +
            `(n=${fmt(event.before.count)}) to mean ${fmt(event.after.mean)} std ${fmt(event.after.std)} (n=${fmt(event.after.count)})`,
        );
      } else if (event.type === 'seasonality') {
        const what = (p: string | null) => (p === null ? 'no season' : `its ${p === 'daily' ? 'time of day' : 'time of week'}`);
        this.logger.log(
          `Channel "${event.channel}" (batch ${source.key}) is now judged against ${what(event.to)} (was ${what(event.from)}; ` +
            `${event.to ?? event.from} profile: split-half consistency ${fmt(event.consistency)}, variance explained ${fmt(event.explained)})`,
        );
      } else if (event.type === 'relearn-undone') {
        const who = event.entity === undefined ? `"${event.channel}"` : `"${event.channel}" of entity "${event.entity}"`;
        this.logger.warn(`Level of ${who} moved back by ${fmt(event.shift)} (${source.key}): its re-learning was inside an incident`);
      } else {
        this.logger.log(`Reference window cleared: ${event.reason}`);
      }
    }
  }

  /**
   * Resolves once the local copy holds everything folded so far. For a batch found already folded
   * (a retry after its local write failed): its summary must not be written before its fold is saved.
   */
  savedLocally(): Promise<void> {
    return this.persistLocal();
  }

  /**
   * Writes the state to `state/baseline.json` when it changed since the last successful flush.
   * Never throws: a failure is logged, the state stays in memory, the next call retries.
   * Resolves true when something was written.
   */
  flush(): Promise<boolean> {
    if (this.flushing) return this.flushing;
    if (!this.isDirty()) return Promise.resolve(false);
    this.flushing = this.doFlush().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  isDirty(): boolean {
    return this.state.version !== this.flushedVersion || this.corruptToPreserve !== undefined;
  }

  status(): BaselineStatus {
    return {
      loadedFrom: this.loadedFrom,
      sequence: this.state.sequence,
      absorbed: this.state.absorbedCount,
      dirty: this.isDirty(),
      ...(this.lastFlushAt ? { lastFlushAt: this.lastFlushAt.toISOString() } : {}),
      ...(this.lastFlushError ? { lastFlushError: this.lastFlushError } : {}),
      consecutiveFlushFailures: this.flushFailures,
    };
  }

  /** Every channel's statistics and maturity (copies), for the reporting endpoint. */
  channels(): ChannelEntry[] {
    return this.state.channels();
  }

  /** The plain channels and a page of entities (BaselineState.page). */
  page(after: string | undefined, limit: number): ReturnType<BaselineState['page']> {
    return this.state.page(after, limit);
  }

  get minCount(): number {
    return this.config.baseline.minCount;
  }

  /** When a batch was last folded in (or the loaded file's last_updated); undefined when empty. */
  get lastUpdated(): string | undefined {
    return this.state.updatedAt;
  }

  /** The state in its stored JSON shape (reference fields plus ours). */
  toJSON(): BaselineStateJson {
    return this.state.toJSON();
  }

  private get localPath(): string {
    return this.config.baseline.localPath;
  }

  private stateOptions(): BaselineStateOptions {
    return BaselineState.optionsFrom(this.config.baseline);
  }

  private async doFlush(): Promise<boolean> {
    const version = this.state.version;
    const text = this.state.serialize();
    try {
      if (this.corruptToPreserve) {
        await this.store.put(this.corruptToPreserve.key, this.corruptToPreserve.text, 'application/json');
        this.logger.warn(`The corrupt ${BASELINE_KEY} was copied to ${this.corruptToPreserve.key} before being replaced`);
        this.corruptToPreserve = undefined;
      }
      await this.store.put(BASELINE_KEY, text, 'application/json');
    } catch (err) {
      this.flushFailures++;
      this.lastFlushError = message(err);
      this.metrics?.recordFlush(false);
      this.logger.error(
        `Flush of the baseline to ${BASELINE_KEY} failed (${this.flushFailures} in a row; the state stays in memory and ` +
          `in ${this.localPath}, retrying at the next tick): ${this.lastFlushError}`,
      );
      return false;
    }
    this.flushedVersion = version;
    this.flushFailures = 0;
    this.lastFlushError = undefined;
    this.lastFlushAt = new Date();
    this.metrics?.recordFlush(true);
    this.logger.debug(`Baseline flushed to ${BASELINE_KEY} (sequence ${this.state.sequence}, ${text.length} bytes)`);
    return true;
  }

  /**
   * Resolves once the local copy holds the state including the latest fold. Writes do not overlap
   * and are spaced by `localWriteGap()`: under load, the folds of that moment share one
   * write (serialising the state and an fsync per batch would take a good part of the event loop).
   */
  private persistLocal(): Promise<void> {
    // A write that has not started yet will serialise the state including this fold.
    if (this.writeNext) return this.writeNext;
    const gap = this.lastWriteStart + this.localWriteGap() - performance.now();
    if (!this.writeInFlight && gap <= 0) return this.startLocalWrite();
    const next = (this.writeInFlight ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => sleep(this.lastWriteStart + this.localWriteGap() - performance.now()))
      .then(() => {
        this.writeNext = undefined;
        return this.startLocalWrite();
      });
    this.writeNext = next;
    return next;
  }

  /**
   * Between local writes: at least LOCAL_WRITE_GAP_MS, and 8 times what serialising the state takes
   * on this thread (a moving average, so one slow measurement, a GC pause, does not count for
   * much), so a big state (thousands of entity channels) costs this thread at most ~1/9 of its time
   * under load; at most MAX_LOCAL_WRITE_GAP_MS, since every batch waits for the write.
   */
  private localWriteGap(): number {
    return Math.min(MAX_LOCAL_WRITE_GAP_MS, Math.max(LOCAL_WRITE_GAP_MS, 8 * this.serializeMsAverage));
  }

  private startLocalWrite(): Promise<void> {
    this.lastWriteStart = performance.now();
    const text = this.state.serialize();
    this.serializeMsAverage += 0.2 * (performance.now() - this.lastWriteStart - this.serializeMsAverage);
    const write = writeFileAtomic(this.localPath, text)
      .catch((err: unknown) => {
        this.logger.error(`Could not write the local baseline copy ${this.localPath}: ${message(err)}`);
        throw new Error(`Baseline folded in memory but not written to ${this.localPath}: ${message(err)}`);
      })
      .finally(() => {
        if (this.writeInFlight === write) this.writeInFlight = undefined;
      });
    this.writeInFlight = write;
    return write;
  }

  private async localWritesSettled(): Promise<void> {
    while (this.writeNext || this.writeInFlight) {
      await (this.writeNext ?? this.writeInFlight)!.catch(() => undefined);
    }
  }

  private async load(): Promise<void> {
    const options = this.stateOptions();
    const storeName = `${this.store.location}/${BASELINE_KEY}`;

    let storeText: string | null = null;
    let fromStore: BaselineState | undefined;
    let storeProblem: string | undefined;
    let storeCorrupt = false;
    try {
      storeText = await this.store.getText(BASELINE_KEY);
    } catch (err) {
      storeProblem = `unreadable (${message(err)})`;
    }
    if (storeText !== null) {
      try {
        fromStore = BaselineState.parse(storeText, options, storeName);
      } catch (err) {
        storeProblem = `corrupt (${message(err)})`;
        storeCorrupt = true;
      }
    }

    let fromLocal: BaselineState | undefined;
    let localProblem: string | undefined;
    try {
      const text = await readFileIfExists(this.localPath);
      if (text !== null) fromLocal = BaselineState.parse(text, options, this.localPath);
    } catch (err) {
      localProblem = message(err);
    }

    if (storeProblem) {
      if (!fromLocal) {
        throw new BaselineLoadError(
          `Refusing to start: ${storeName} is ${storeProblem}, and there is no valid local copy at ${this.localPath}` +
            `${localProblem ? ` (${localProblem})` : ' (missing)'}. The stored baseline is left untouched rather than replaced ` +
            `with an empty one. Fix or restore ${BASELINE_KEY} (or delete it to start from scratch), or put a valid ` +
            `baseline.json at ${this.localPath}, then start again.`,
          !storeCorrupt,
        );
      }
      this.logger.error(`${storeName} is ${storeProblem}: starting from the local copy ${this.localPath} (sequence ${fromLocal.sequence})`);
      if (storeCorrupt && storeText !== null) {
        this.corruptToPreserve = { text: storeText, key: `state/baseline.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}.json` };
      }
      this.use(fromLocal, 'local', false);
      return;
    }

    if (fromStore && fromLocal && isEmpty(fromStore) && !isEmpty(fromLocal)) {
      // A store emptied (a `{}` written over it, a restore gone wrong) next to a local copy that has
      // learned something: suspicious, not authoritative. The local copy is kept and flushed over it.
      this.logger.warn(
        `${storeName} is empty but the local copy ${this.localPath} is not (${describe(fromLocal)}): using the local copy; ` +
          `it is flushed over the empty one at the next tick (move it away first to start from scratch)`,
      );
      this.use(fromLocal, 'local', false);
      return;
    }

    if (fromStore) {
      if (localProblem) this.logger.warn(`Ignoring the unreadable local copy ${this.localPath} (${localProblem}); it is rewritten after the next batch`);
      if (fromLocal && fromLocal.lineage === fromStore.lineage && fromLocal.sequence > fromStore.sequence) {
        this.logger.warn(
          `The local copy ${this.localPath} is ${fromLocal.sequence - fromStore.sequence} fold(s) ahead of ${storeName} ` +
            `(the last run stopped before flushing): using it; it is flushed at the next tick`,
        );
        this.use(fromLocal, 'local', false);
        return;
      }
      this.logger.log(`Baseline loaded from ${storeName}: ${describe(fromStore)}`);
      this.use(fromStore, 'store', true);
      return;
    }

    if (localProblem) {
      throw new BaselineLoadError(
        `Refusing to start: there is no ${storeName} and the local copy ${this.localPath} is unreadable (${localProblem}). ` +
          `It may be the only copy of the baseline: fix it, or move it away to start from an empty baseline.`,
      );
    }
    if (fromLocal) {
      this.logger.warn(`No ${storeName} yet: starting from the local copy ${this.localPath} (${describe(fromLocal)}); it is flushed at the next tick`);
      this.use(fromLocal, 'local', false);
      return;
    }
    this.logger.log(`No baseline in ${storeName} or ${this.localPath}: starting empty`);
    this.use(BaselineState.empty(options), 'empty', true);
  }

  private use(state: BaselineState, from: BaselineStatus['loadedFrom'], inStore: boolean): void {
    this.state = state;
    this.loadedFrom = from;
    // Loaded from elsewhere than the store: the store is behind, so the first tick flushes.
    this.flushedVersion = inStore ? state.version : -1;
  }
}

function describe(state: BaselineState): string {
  const channels = state.channels();
  const mature = channels.filter((c) => c.mature).length;
  return `${channels.length} channel(s), ${mature} mature, ${state.absorbedCount} absorbed object(s) remembered, sequence ${state.sequence}`;
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(6);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Nothing learned and nothing folded: what `{}` loads as. */
function isEmpty(state: BaselineState): boolean {
  return state.channels().length === 0 && state.absorbedCount === 0;
}
