/**
 * The messages between the processing service and its batch worker threads, and how what crosses
 * the boundary (errors, statistics) is turned back into the classes the service handles. A
 * structured clone keeps an object's fields but not its class.
 */
import type { StorageConfig } from '../config/app-config';
import { reviveLearning } from '../baseline/batch-contribution';
import { RunningStats } from '../baseline/running-stats';
import type { ForestModelData } from '../detection/forest-model';
import { InvalidKeyError, ObjectInfo, StorageError } from '../storage/object-store';
import { BadInputError } from './bad-input.error';
import { BatchKeys } from './batch-keys';
import { ScoringSettings, ScoringOutcome } from './csv-scorer';
import type { WindowData } from '../detection/window-transfer';
import type { ExclusionWindow } from '../baseline/exclusion-windows';
import { ChannelData } from './snapshot-transfer';

export interface BatchWorkerInit {
  storage: StorageConfig;
  settings: Omit<ScoringSettings, 'forestCache'>;
  /** Lower the thread's scheduling priority (Linux), so that the HTTP thread wins the CPU. */
  niceness: number;
}

/** Service -> worker. */
export type ToWorker =
  /** Open the raw object (one request: bytes and the ETag of exactly those bytes). */
  | { type: 'open'; id: number; key: string; keys: BatchKeys }
  /** Score the opened object into `keys.output`. `window` and `model` come when the worker has not got them yet. */
  | {
      type: 'score';
      id: number;
      channels: ChannelData[];
      windowKey: string;
      window?: WindowData;
      /** The window's forest, fitted once for the process; sent when the worker has not got it yet (null: the window has none). */
      model?: { key: string; data: ForestModelData | null };
      /** Operators' incident and maintenance windows (src/baseline/exclusion-windows.ts). */
      exclusions: ExclusionWindow[];
      progress: boolean;
    }
  /** Drop the opened object (already processed). */
  | { type: 'discard'; id: number };

/** Worker -> service. */
export type FromWorker =
  | { type: 'opened'; id: number; info: ObjectInfo }
  | { type: 'missing'; id: number }
  | { type: 'progress'; id: number; bytesRead: number; rows: number }
  | { type: 'scored'; id: number; outcome: ScoringOutcome }
  | { type: 'failed'; id: number; error: ErrorData };

export interface ErrorData {
  name: string;
  message: string;
  /** BadInputError */
  line?: number;
  reason?: string;
  /** StorageError, InvalidKeyError */
  operation?: string;
  key?: string;
  cause?: { name: string; message: string };
}

/** The thread died or answered out of turn: the batch is retried like any storage hiccup. */
export class BatchWorkerError extends Error {
  override readonly name = 'BatchWorkerError';
}

export function errorData(err: unknown): ErrorData {
  if (err instanceof BadInputError) return { name: err.name, message: err.message, line: err.line, reason: err.reason };
  if (err instanceof StorageError) {
    const c = err.cause;
    return {
      name: 'StorageError',
      message: err.message,
      operation: err.operation,
      key: err.key,
      cause: c instanceof Error ? { name: c.name, message: c.message } : { name: 'Error', message: String(c) },
    };
  }
  if (err instanceof InvalidKeyError) return { name: 'InvalidKeyError', message: err.message, key: err.key };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

/** The error as the service would have seen it had the batch run on its own thread. */
export function reviveError(data: ErrorData): Error {
  switch (data.name) {
    case 'BadInputError':
      return new BadInputError(data.reason ?? data.message, data.line);
    case 'StorageError': {
      const cause = Object.assign(new Error(data.cause?.message ?? ''), { name: data.cause?.name ?? 'Error' });
      return new StorageError(data.operation ?? 'request', data.key ?? '', cause);
    }
    case 'InvalidKeyError':
      return Object.assign(new InvalidKeyError(data.key ?? '', ''), { message: data.message });
    default:
      return new BatchWorkerError(`${data.name}: ${data.message}`);
  }
}

/** The outcome with its statistics made RunningStats again. */
export function reviveOutcome(outcome: ScoringOutcome): ScoringOutcome {
  for (const ch of outcome.contribution.channels) {
    ch.accepted = RunningStats.revive(ch.accepted);
    ch.rejected = RunningStats.revive(ch.rejected);
    if (ch.winsorised) ch.winsorised = RunningStats.revive(ch.winsorised);
    if (ch.learning) ch.learning = reviveLearning(ch.learning);
  }
  return outcome;
}
