/**
 * The main thread's side of the forest-fitting worker: `fit()` copies the window's rows into one
 * typed array, transfers it to a long-lived worker thread (started on first use) and resolves with
 * the fitted model's arrays (transferred back). Requests are answered in order, one at a time.
 *
 * The worker does not keep the process alive while it has nothing to do (it is unref'd between
 * requests), stops after `idleMs` without work, and `close()` stops it at shutdown; the next `fit()`
 * starts a new one. After MAX_CONSECUTIVE_FAILURES crashes without a success in between it is not
 * started again: `fit()` then rejects at once and the caller fits on its own thread.
 */
import { Worker } from 'node:worker_threads';
import { ReferenceWindowView } from './detection.types';
import type { FitRequest, FitResponse } from './forest-fit.worker';
import type { ForestModelData, ForestModelOptions } from './forest-model';
import { spawnModuleWorker } from './module-worker';
import { windowData } from './window-transfer';

/** workerData marking a fitting thread (the worker module attaches its handler only there). */
export const FOREST_FIT_WORKER = 'forest-fit';
const MAX_CONSECUTIVE_FAILURES = 3;
const DEFAULT_IDLE_MS = 60_000;

/** The fit did not happen in the worker (crashed, stopped, or the fit threw there). */
export class ForestFitError extends Error {
  override readonly name = 'ForestFitError';
}

export interface ForestFitterOptions {
  /** A worker with nothing to do is stopped after this long (default 60 s). */
  idleMs?: number;
  /** The worker module's base name next to this file (tests point it at a broken one). */
  workerModule?: string;
}

interface Waiting {
  resolve: (model: ForestModelData | null) => void;
  reject: (err: Error) => void;
}

export class ForestFitter {
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private readonly idleMs: number;
  private readonly workerModule: string;
  /** Workers started so far (for tests and diagnostics). */
  started = 0;

  constructor(options: ForestFitterOptions = {}) {
    this.idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.workerModule = options.workerModule ?? 'forest-fit.worker';
  }

  /** Fits `window` on the worker thread; null when the window gives no model. */
  fit(window: ReferenceWindowView, options: ForestModelOptions): Promise<ForestModelData | null> {
    if (this.failures >= MAX_CONSECUTIVE_FAILURES) {
      return Promise.reject(new ForestFitError(`the fitting worker failed ${this.failures} times in a row; not restarted`));
    }
    const id = this.nextId++;
    const req: FitRequest = { id, window: windowData(window), options: { ...options } };
    return new Promise<ForestModelData | null>((resolve, reject) => {
      let worker: Worker;
      try {
        worker = this.ensureWorker();
      } catch (err) {
        this.failures++;
        reject(new ForestFitError(`could not start the fitting worker: ${err instanceof Error ? err.message : String(err)}`));
        return;
      }
      this.waiting.set(id, { resolve, reject });
      this.busy(worker);
      worker.postMessage(req, [req.window.values.buffer as ArrayBuffer]);
    });
  }

  /** Waits for the fits under way, then stops the worker. A later `fit()` starts a new one. */
  async close(): Promise<void> {
    const pending = [...this.waiting.values()].map(
      (w) => new Promise<void>((done) => {
        const { resolve, reject } = w;
        w.resolve = (m) => (resolve(m), done());
        w.reject = (e) => (reject(e), done());
      }),
    );
    await Promise.all(pending);
    await this.stop();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = spawnModuleWorker(__dirname, this.workerModule, {
      workerData: FOREST_FIT_WORKER,
      // A fit makes many small short-lived objects; a small young generation keeps the thread at
      // ~40 MB RSS instead of ~50-80 MB (measured, 2,048-row window), at the same fit time.
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    this.started++;
    this.worker = worker;
    worker.unref();
    worker.on('message', (res: FitResponse) => {
      const w = this.waiting.get(res.id);
      if (!w) return;
      this.waiting.delete(res.id);
      if ('error' in res) {
        w.reject(new ForestFitError(`fitting worker: ${res.error}`));
      } else {
        this.failures = 0;
        w.resolve(res.model);
      }
      if (this.waiting.size === 0 && this.worker === worker) this.idle(worker);
    });
    worker.on('error', (err) => this.lost(worker, `crashed: ${err.message}`));
    worker.on('exit', (code) => this.lost(worker, `exited with code ${code}`));
    return worker;
  }

  /** Keeps the process alive while a fit is awaited (a script awaiting only a fit must not exit). */
  private busy(worker: Worker): void {
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    worker.ref();
  }

  private idle(worker: Worker): void {
    worker.unref();
    this.idleTimer = setTimeout(() => void this.stop(), this.idleMs);
    this.idleTimer.unref();
  }

  /** The worker died while it was the current one: fail what it held; the next fit starts another. */
  private lost(worker: Worker, why: string): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.failures++;
    const err = new ForestFitError(`fitting worker ${why}`);
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private async stop(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const worker = this.worker;
    if (!worker) return;
    this.worker = null; // from here its exit is expected, not a failure
    const err = new ForestFitError('fitting worker stopped');
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
    await worker.terminate();
  }
}

/** The fitter `sharedForestCache` uses: one worker thread per process, started on first use. */
export const sharedForestFitter = new ForestFitter();
