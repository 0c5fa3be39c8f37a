import { Worker } from 'node:worker_threads';
import { BaselineSnapshot } from '../detection/detection.types';
import { ForestModelCache, ForestModelData, forestOptions, modelKey, sharedForestCache, toModelData, windowKey } from '../detection/forest-model';
import { spawnModuleWorker } from '../detection/module-worker';
import { ObjectInfo } from '../storage/object-store';
import { BatchKeys } from './batch-keys';
import { BatchWorkerError, BatchWorkerInit, FromWorker, reviveError, reviveOutcome, ToWorker } from './batch-worker.protocol';
import { ScoringOutcome, ScoringProgress } from './csv-scorer';
import { windowData } from '../detection/window-transfer';
import { channelData, ChannelData, exclusionsOf } from './snapshot-transfer';

/** A raw batch opened on a worker thread, waiting for the service's decision. */
export interface OpenedBatch {
  info: ObjectInfo;
  /** Scores it against `snapshot` into `processed/<name>.csv`; resolves with what the fold and the summary need. */
  score(snapshot: BaselineSnapshot, onProgress?: (p: ScoringProgress) => void): Promise<ScoringOutcome>;
  /** Not to be scored (already processed): closes the object. */
  discard(): void;
}

type Reply = Exclude<FromWorker, { type: 'progress' | 'failed' }>;

interface Pending {
  resolve: (msg: Reply) => void;
  reject: (err: Error) => void;
  onProgress?: (p: ScoringProgress) => void;
}

export interface BatchWorkerPoolOptions {
  /** Threads at most. */
  size: number;
  /** Told when a thread died (its jobs failed with BatchWorkerError). */
  onCrash?: (err: Error) => void;
  /** The worker module's path from this file's folder, without extension (tests use stand-ins). */
  workerModule?: string;
  /** Where forests are fitted, once for all threads (default: the process-wide cache and its fitting thread). */
  forests?: ForestModelCache;
}

/** One worker thread and the jobs it holds. */
class BatchWorkerThread {
  readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  /** Jobs from `open` until scored, discarded or failed. */
  readonly jobs = new Set<number>();
  /** The keys of the last reference window and forest sent (the worker keeps them). */
  windowSent: string | null = null;
  modelSent: string | null = null;
  failure: Error | null = null;
  private stopping = false;

  constructor(init: BatchWorkerInit, workerModule: string, onDeath: (thread: BatchWorkerThread, err: Error) => void) {
    this.worker = spawnModuleWorker(__dirname, workerModule, { workerData: init });
    this.worker.unref();
    this.worker.on('message', (msg: FromWorker) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      if (msg.type === 'progress') return p.onProgress?.({ bytesRead: msg.bytesRead, rows: msg.rows });
      this.pending.delete(msg.id);
      if (msg.type === 'failed') p.reject(reviveError(msg.error));
      else p.resolve(msg);
    });
    const die = (err: Error) => {
      if (this.failure) return;
      this.failure = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.jobs.clear();
      if (!this.stopping) onDeath(this, err);
    };
    this.worker.on('error', (err) => die(new BatchWorkerError(`batch worker crashed: ${err.message}`)));
    this.worker.on('exit', (code) => die(new BatchWorkerError(`batch worker ${this.stopping ? 'stopped' : `exited with code ${code}`}`)));
  }

  /** Posts `msg`; the promise settles with the worker's answer. Throws at once if it cannot be posted. */
  request(msg: ToWorker, transfer: ArrayBuffer[] = [], onProgress?: (p: ScoringProgress) => void): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    let entry!: Pending;
    const answer = new Promise<Reply>((resolve, reject) => (entry = { resolve, reject, onProgress }));
    this.pending.set(msg.id, entry);
    try {
      this.worker.postMessage(msg, transfer);
    } catch (err) {
      this.pending.delete(msg.id);
      throw err;
    }
    return answer;
  }

  send(msg: ToWorker): void {
    if (!this.failure) this.worker.postMessage(msg);
  }

  begin(id: number): void {
    if (this.jobs.size === 0) this.worker.ref();
    this.jobs.add(id);
  }

  end(id: number): void {
    // An idle thread does not keep the process alive; shutdown stops it explicitly.
    if (this.jobs.delete(id) && this.jobs.size === 0 && !this.failure) this.worker.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.worker.terminate();
  }
}

/**
 * The service's side of its batch worker threads: up to `size` threads, started on first use, each
 * job on the least busy one. A job is two steps, because the service decides in between whether the
 * version opened still needs processing (its baseline ledger) and takes the baseline snapshot it is
 * scored against then, as on its own thread. A thread that dies fails its jobs with BatchWorkerError
 * (retried by the queue; after the last attempt recorded as failed, not left to the catch-up scan,
 * since a batch that keeps killing its thread would take others down with it) and is replaced by
 * the next job.
 */
export class BatchWorkerPool {
  private threads: BatchWorkerThread[] = [];
  private nextId = 0;
  private readonly channelsOf = new WeakMap<BaselineSnapshot, ChannelData[]>();
  private closed = false;

  readonly size: number;
  private readonly forests: ForestModelCache;

  constructor(
    private readonly init: BatchWorkerInit,
    private readonly options: BatchWorkerPoolOptions,
  ) {
    this.size = options.size;
    this.forests = options.forests ?? sharedForestCache;
    if (!(Number.isInteger(this.size) && this.size >= 1)) throw new RangeError(`a batch worker pool needs at least 1 thread, got ${this.size}`);
  }

  /** Opens `key` on a worker; null when there is no such object. Rejects with the store's error. */
  async open(key: string, keys: BatchKeys): Promise<OpenedBatch | null> {
    const thread = this.pick();
    const id = this.nextId++;
    thread.begin(id);
    let reply: Reply;
    try {
      reply = await thread.request({ type: 'open', id, key, keys });
    } catch (err) {
      thread.end(id);
      throw err;
    }
    if (reply.type !== 'opened') {
      thread.end(id);
      if (reply.type === 'missing') return null;
      throw new BatchWorkerError(`batch worker answered ${reply.type} to open`);
    }
    return {
      info: reply.info,
      score: async (snapshot, onProgress) => {
        let sent = false;
        try {
          // The window's forest is fitted once on the fitting thread (scoring on the batch thread
          // goes on meanwhile) and sent to each batch thread once, instead of every batch thread
          // stopping to fit the same forest itself.
          const options = forestOptions(this.init.settings.detection);
          await this.forests.prepare(snapshot.window, options);
          const forestKey = modelKey(snapshot.window, options);
          let model: { key: string; data: ForestModelData | null } | undefined;
          if (thread.modelSent !== forestKey) {
            const fitted = this.forests.get(snapshot.window, options);
            model = { key: forestKey, data: fitted ? toModelData(fitted) : null };
          }
          const key = windowKey(snapshot.window);
          const window = thread.windowSent === key ? undefined : windowData(snapshot.window);
          const exclusions = [...(exclusionsOf(snapshot)?.list() ?? [])];
          const msg: ToWorker = { type: 'score', id, channels: this.channels(snapshot), windowKey: key, window, model, exclusions, progress: onProgress !== undefined };
          const answer = thread.request(msg, window ? [window.values.buffer as ArrayBuffer] : [], onProgress);
          sent = true;
          thread.windowSent = key;
          thread.modelSent = forestKey;
          const scored = await answer;
          if (scored.type !== 'scored') throw new BatchWorkerError(`batch worker answered ${scored.type} to score`);
          return reviveOutcome(scored.outcome);
        } finally {
          // Failed before the job reached the worker (e.g. the forest could not be fitted): let it
          // close the object it holds open.
          if (!sent) thread.send({ type: 'discard', id });
          thread.end(id);
        }
      },
      discard: () => {
        thread.send({ type: 'discard', id });
        thread.end(id);
      },
    };
  }

  /** Stops every thread; jobs still on them fail. */
  async close(): Promise<void> {
    this.closed = true;
    const threads = this.threads;
    this.threads = [];
    await Promise.all(threads.map((t) => t.stop()));
  }

  /** Threads alive now (for tests and diagnostics). */
  get threadCount(): number {
    return this.threads.length;
  }

  private pick(): BatchWorkerThread {
    if (this.closed) throw new BatchWorkerError('batch workers are stopped');
    let best: BatchWorkerThread | undefined;
    for (const t of this.threads) if (!best || t.jobs.size < best.jobs.size) best = t;
    if (best && (best.jobs.size === 0 || this.threads.length >= this.size)) return best;
    const thread = new BatchWorkerThread(this.init, this.options.workerModule ?? 'batch.worker', (dead, err) => {
      this.threads = this.threads.filter((t) => t !== dead);
      this.options.onCrash?.(err);
    });
    this.threads.push(thread);
    return thread;
  }

  /** The plain channels' statistics of a snapshot, built once per snapshot (it changes with each fold). */
  private channels(snapshot: BaselineSnapshot): ChannelData[] {
    let data = this.channelsOf.get(snapshot);
    if (!data) {
      if (!snapshot.channelNames) throw new TypeError('a batch worker needs a baseline snapshot that can list its channels');
      data = channelData(snapshot, snapshot.channelNames());
      this.channelsOf.set(snapshot, data);
    }
    return data;
  }
}
