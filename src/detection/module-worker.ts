/**
 * Starts a worker thread on a module that sits next to the caller's own source, in whichever form
 * the caller runs: compiled code (`dist/…/x.worker.js`) starts the compiled worker; under ts-node or
 * ts-jest (this file is then `.ts` too) the worker loads the TypeScript source through ts-node
 * (slower to start, same code).
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import * as path from 'node:path';
import { Worker, WorkerOptions } from 'node:worker_threads';

const RUNNING_TYPESCRIPT = __filename.endsWith('.ts');

/** `dir` is the caller's `__dirname`, `name` the worker module's base name (e.g. `scoring.worker`). */
export function spawnModuleWorker(dir: string, name: string, options: WorkerOptions = {}): Worker {
  const entry = path.join(dir, `${name}${RUNNING_TYPESCRIPT ? '.ts' : '.js'}`);
  if (!RUNNING_TYPESCRIPT) return new Worker(entry, options);
  return new Worker(entry, {
    ...options,
    execArgv: ['--require', 'ts-node/register/transpile-only', ...(options.execArgv ?? [])],
    env: { ...(options.env === undefined ? process.env : (options.env as NodeJS.ProcessEnv)), TS_NODE_TRANSPILE_ONLY: 'true' },
  });
}

/**
 * Lowers the calling thread's scheduling priority (raises its niceness) on Linux, where a thread has
 * a niceness of its own: background threads (scoring, fitting) then yield a contended core to the
 * thread that answers HTTP. Threads started afterwards from this one inherit it. Elsewhere, or if
 * refused, nothing changes.
 */
export function lowerThreadPriority(niceness: number): void {
  if (niceness <= 0 || process.platform !== 'linux') return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, niceness);
  } catch {
    // Not worth failing over: the thread runs at the process's priority.
  }
}
