import { Worker } from 'node:worker_threads';
import { spawnModuleWorker } from '../detection/module-worker';
import { ScoredBlock } from './scored-block';
import { ScoreRequest, ScoringWorkerInit } from './scoring.worker';

/** The worker failed (crashed, or its detector threw): the batch fails and is retried. */
export class ScoringWorkerError extends Error {
  override readonly name = 'ScoringWorkerError';
}

/**
 * The main thread's side of one scoring worker: `score()` posts a block (its values are transferred,
 * not copied) and resolves with the packed scores; blocks are answered in order. The worker runs
 * compiled or from TypeScript source, as this file does (`spawnModuleWorker`).
 */
export class ScoringWorkerClient {
  /** Clients of this thread whose worker has not stopped yet (the scorer caps how many it starts). */
  static running = 0;
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (b: ScoredBlock) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private failure: Error | null = null;
  private terminated = false;

  constructor(init: ScoringWorkerInit) {
    this.worker = spawnModuleWorker(__dirname, 'scoring.worker', { workerData: init });
    ScoringWorkerClient.running++;
    this.worker.once('exit', () => ScoringWorkerClient.running--);
    this.worker.on('message', (msg: ScoredBlock | { id: number; error: string }) => {
      const w = this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      if ('error' in msg) w.reject(new ScoringWorkerError(`scoring worker: ${msg.error}`));
      else w.resolve(msg);
    });
    this.worker.on('error', (err) => this.fail(new ScoringWorkerError(`scoring worker crashed: ${err.message}`)));
    this.worker.on('exit', (code) => {
      if (!this.terminated) this.fail(new ScoringWorkerError(`scoring worker exited with code ${code}`));
    });
  }

  /** `previous` / `previousSustained`: each channel's last value and sustained statistic before the block's first row. */
  score(values: Float64Array, rows: number, previous: Float64Array, previousSustained: Float64Array): Promise<ScoredBlock> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const req: ScoreRequest = { id, rows, values, previous, previousSustained };
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage(req, [values.buffer as ArrayBuffer]);
    });
  }

  async terminate(): Promise<void> {
    if (this.terminated) return;
    this.terminated = true;
    this.fail(new ScoringWorkerError('scoring worker stopped'));
    await this.worker.terminate();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }
}
