/**
 * Batch worker thread entry: opens a raw batch, scores it and writes `processed/<name>.csv`, through
 * a store of its own built from the same configuration. The service's thread keeps what must be
 * single (the queue, the ledger check, the fold into the baseline, the summary) and the HTTP
 * front door, which this thread's parsing, scoring and storage calls no longer hold up.
 *
 * Same scoring code, same snapshot content, the same forests: the output is the same bytes as on the
 * service's thread.
 */
import { Readable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { ReferenceWindowView } from '../detection/detection.types';
import { ForestModelCache, fromModelData } from '../detection/forest-model';
import { lowerThreadPriority } from '../detection/module-worker';
import { ObjectInfo } from '../storage/object-store';
import { objectStoreFor } from '../storage/object-store.factory';
import { writeScoredOutput } from './batch-pipeline';
import { BatchKeys } from './batch-keys';
import { BatchWorkerInit, errorData, FromWorker, ToWorker } from './batch-worker.protocol';
import { windowView } from '../detection/window-transfer';
import { StaticSnapshot } from './snapshot-transfer';
import { ExclusionWindows } from '../baseline/exclusion-windows';

/** Windows kept by key (rebuilt once each); the service sends a window only when it differs from the last one it sent. */
const WINDOWS_KEPT = 4;

interface OpenedJob {
  keys: BatchKeys;
  info: ObjectInfo;
  stream: Readable;
}

if (parentPort) {
  const port = parentPort;
  const init = workerData as BatchWorkerInit;
  lowerThreadPriority(init.niceness);
  const store = objectStoreFor(init.storage);
  // The service sends each window's forest, fitted once for the process on its fitting thread;
  // should one be missing all the same, this thread fits it (same seed, same rows: same forest).
  const forests = new ForestModelCache(4);
  const settings = { ...init.settings, forestCache: forests };
  const jobs = new Map<number, OpenedJob>();
  const windows = new Map<string, ReferenceWindowView>();
  const post = (msg: FromWorker) => port.postMessage(msg);
  const fail = (id: number, err: unknown) => {
    jobs.get(id)?.stream.destroy();
    jobs.delete(id);
    post({ type: 'failed', id, error: errorData(err) });
  };

  const score = (msg: Extract<ToWorker, { type: 'score' }>) => {
    const job = jobs.get(msg.id);
    if (msg.window) {
      windows.delete(msg.windowKey);
      windows.set(msg.windowKey, windowView(msg.window));
      if (windows.size > WINDOWS_KEPT) windows.delete(windows.keys().next().value!);
    }
    const window = windows.get(msg.windowKey);
    // Filed even if this job cannot go on: the service counts it as sent.
    if (msg.model && window) {
      const { key, data } = msg.model;
      forests.insert(key, data === null ? undefined : fromModelData(data, window.columns, key));
    }
    if (!job || !window) throw new Error(`batch worker: no ${job ? `window ${msg.windowKey}` : 'opened object'} for job ${msg.id}`);
    const snapshot = new StaticSnapshot(msg.channels, window, new ExclusionWindows(msg.exclusions));
    const onProgress = msg.progress ? (p: { bytesRead: number; rows: number }) => post({ type: 'progress', id: msg.id, ...p }) : undefined;
    writeScoredOutput(store, { keys: job.keys, etag: job.info.etag, input: job.stream }, snapshot, settings, onProgress).then(
      (outcome) => {
        jobs.delete(msg.id);
        post({ type: 'scored', id: msg.id, outcome });
      },
      (err: unknown) => fail(msg.id, err),
    );
  };

  port.on('message', (msg: ToWorker) => {
    // A message that cannot be handled fails its job, not the thread and the other jobs on it.
    try {
      switch (msg.type) {
        case 'open':
          store.open(msg.key).then(
            (opened) => {
              if (opened === null) return post({ type: 'missing', id: msg.id });
              // An error while the object waits for the service's decision (a reset connection)
              // must not go unhandled and end the thread; reading the stream then reports it.
              opened.stream.on('error', () => undefined);
              jobs.set(msg.id, { keys: msg.keys, ...opened });
              post({ type: 'opened', id: msg.id, info: opened.info });
            },
            (err: unknown) => fail(msg.id, err),
          );
          break;
        case 'discard':
          jobs.get(msg.id)?.stream.destroy();
          jobs.delete(msg.id);
          break;
        case 'score':
          score(msg);
          break;
      }
    } catch (err) {
      fail(msg.id, err);
    }
  });
}
