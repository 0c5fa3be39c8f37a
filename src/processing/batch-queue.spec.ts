import { BatchJob, BatchQueue, BatchQueueHandlers, QueueFullError } from './batch-queue';
import { waitFor } from '../../test/support/wait-for';

class Transient extends Error {}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function makeQueue(handlers: Partial<BatchQueueHandlers>, options: Partial<ConstructorParameters<typeof BatchQueue>[1]> = {}) {
  const failures: { job: BatchJob; err: unknown; attempts: number }[] = [];
  const queue = new BatchQueue(
    {
      run: async () => undefined,
      isRetryable: (err) => err instanceof Transient,
      onFailure: async (job, err, attempts) => {
        failures.push({ job, err, attempts });
      },
      ...handlers,
    },
    { concurrency: 2, maxAttempts: 3, retryBaseDelayMs: 1, retryMaxDelayMs: 4, maxQueued: 1000, ...options },
  );
  return { queue, failures };
}

const job = (key: string, etag?: string): BatchJob => ({ key, etag, source: 'sns' });

describe('BatchQueue', () => {
  it('never runs more than `concurrency` jobs at once, and runs them all', async () => {
    let active = 0;
    let peak = 0;
    const done: string[] = [];
    const { queue } = makeQueue(
      {
        run: async (j) => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setImmediate(r));
          await new Promise((r) => setImmediate(r));
          active--;
          done.push(j.key);
        },
      },
      { concurrency: 3 },
    );
    for (let i = 0; i < 20; i++) expect(queue.enqueue(job(`raw/${i}.csv`))).toBe('queued');
    expect(queue.counters.running).toBe(3);
    await queue.idle();
    expect(peak).toBe(3);
    expect(done).toHaveLength(20);
    expect(queue.counters).toEqual({ queued: 0, running: 0, processed: 20, failed: 0, retries: 0 });
  });

  it('leaves a batch that fails transiently during shutdown to the next start, with no error report', async () => {
    const gate = deferred();
    const abandoned: string[] = [];
    const { queue, failures } = makeQueue({
      run: async () => {
        await gate.promise;
        throw new Transient('S3 SlowDown');
      },
      onAbandoned: (j) => abandoned.push(j.key),
    });
    queue.enqueue(job('raw/a.csv'));
    queue.close();
    gate.resolve();
    await queue.idle();
    expect(abandoned).toEqual(['raw/a.csv']);
    expect(failures).toEqual([]);
  });

  it('treats a key already queued or running as a duplicate', async () => {
    const gate = deferred();
    const runs: string[] = [];
    const { queue } = makeQueue(
      {
        run: async (j) => {
          runs.push(`${j.key}@${j.etag}`);
          await gate.promise;
        },
      },
      { concurrency: 1 },
    );
    expect(queue.enqueue(job('raw/a.csv', 'e1'))).toBe('queued'); // starts running
    expect(queue.enqueue(job('raw/b.csv', 'e1'))).toBe('queued'); // waits
    expect(queue.enqueue(job('raw/a.csv', 'e1'))).toBe('duplicate');
    expect(queue.enqueue(job('raw/a.csv'))).toBe('duplicate');
    expect(queue.enqueue(job('raw/b.csv', 'e1'))).toBe('duplicate');
    expect(queue.enqueue(job('raw/b.csv', 'e2'))).toBe('duplicate'); // not started: one run, newest ETag
    gate.resolve();
    await queue.idle();
    expect(runs).toEqual(['raw/a.csv@e1', 'raw/b.csv@e2']);
    expect(queue.enqueue(job('raw/a.csv', 'e1'))).toBe('queued'); // done: the caller decides (ledger)
    await queue.idle();
  });

  it('runs a key again when a new version is announced while it runs', async () => {
    const gate = deferred();
    const runs: string[] = [];
    const { queue } = makeQueue({
      run: async (j) => {
        runs.push(j.etag!);
        await gate.promise;
      },
    });
    queue.enqueue(job('raw/a.csv', 'v1'));
    expect(queue.enqueue(job('raw/a.csv', 'v2'))).toBe('queued');
    expect(queue.enqueue(job('raw/a.csv', 'v3'))).toBe('duplicate');
    gate.resolve();
    await queue.idle();
    expect(runs).toEqual(['v1', 'v2']);
  });

  it('retries transient failures with growing delays, then succeeds', async () => {
    let calls = 0;
    const attempts: number[] = [];
    const delays: number[] = [];
    const { queue, failures } = makeQueue(
      {
        run: async (_j, attempt) => {
          attempts.push(attempt);
          if (++calls < 3) throw new Transient('storage hiccup');
        },
        onRetry: (_j, _e, _a, delay) => delays.push(delay),
      },
      { maxAttempts: 5, retryBaseDelayMs: 2, retryMaxDelayMs: 1000 },
    );
    queue.enqueue(job('raw/a.csv'));
    expect(queue.enqueue(job('raw/a.csv'))).toBe('duplicate');
    await queue.idle();
    expect(attempts).toEqual([1, 2, 3]);
    expect(delays).toEqual([2, 4]);
    expect(failures).toEqual([]);
    expect(queue.counters).toMatchObject({ processed: 1, failed: 0, retries: 2 });
  });

  it('gives up after maxAttempts and reports the job once', async () => {
    const { queue, failures } = makeQueue({
      run: async () => {
        throw new Transient('still down');
      },
    });
    queue.enqueue(job('raw/a.csv'));
    await queue.idle();
    expect(failures).toHaveLength(1);
    expect(failures[0].attempts).toBe(3);
    expect((failures[0].err as Error).message).toBe('still down');
    expect(queue.counters).toMatchObject({ processed: 0, failed: 1, retries: 2 });
  });

  it('does not retry failures that are not transient', async () => {
    let calls = 0;
    const { queue, failures } = makeQueue({
      run: async () => {
        calls++;
        throw new Error('bad input');
      },
    });
    queue.enqueue(job('raw/a.csv'));
    await queue.idle();
    expect(calls).toBe(1);
    expect(failures.map((f) => f.attempts)).toEqual([1]);
  });

  it('survives an onFailure that throws', async () => {
    const { queue } = makeQueue({
      run: async () => {
        throw new Error('x');
      },
      onFailure: async () => {
        throw new Error('cannot even write error.json');
      },
    });
    queue.enqueue(job('raw/a.csv'));
    await queue.idle();
    expect(queue.counters.failed).toBe(1);
  });

  it('refuses jobs beyond maxQueued, and everything once closed', async () => {
    const gate = deferred();
    const { queue } = makeQueue({ run: () => gate.promise }, { concurrency: 1, maxQueued: 2 });
    queue.enqueue(job('raw/1.csv'));
    queue.enqueue(job('raw/2.csv'));
    queue.enqueue(job('raw/3.csv'));
    expect(() => queue.enqueue(job('raw/4.csv'))).toThrow(QueueFullError);
    queue.close();
    expect(() => queue.enqueue(job('raw/5.csv'))).toThrow(/shutting down/);
    gate.resolve();
    await queue.idle();
    expect(queue.counters).toMatchObject({ queued: 0, running: 0, processed: 1 });
  });

  describe('during a storage outage', () => {
    class Outage extends Transient {}

    it('holds after 3 outage failures in a row: one probe at a time, spaced; the untried jobs keep their first attempt', async () => {
      let down = true;
      let active = 0;
      let peakWhileDown = 0;
      const starts: { key: string; attempt: number; at: number; down: boolean }[] = [];
      const holds: boolean[] = [];
      const { queue, failures } = makeQueue(
        {
          run: async (j, attempt) => {
            starts.push({ key: j.key, attempt, at: Date.now(), down });
            active++;
            if (down) peakWhileDown = Math.max(peakWhileDown, active);
            await new Promise((r) => setTimeout(r, 5));
            active--;
            if (down) throw new Outage('connect ECONNREFUSED');
          },
          isOutage: (err) => err instanceof Outage,
          onHold: (holding) => holds.push(holding),
        },
        { concurrency: 4, maxAttempts: 8, retryBaseDelayMs: 40, retryMaxDelayMs: 40 },
      );
      for (let i = 0; i < 30; i++) queue.enqueue(job(`raw/${i}.csv`));
      // Four started at once; two more replaced the first two failures; the third started the hold.
      await waitFor('the hold and three probes after it', () => holds.length === 1 && starts.length >= 9);
      expect(holds).toEqual([true]);
      const held = starts.slice(6);
      // From then on one job at a time, each start at least the base delay after the one before: no burst.
      for (let i = 1; i < held.length; i++) expect(held[i].at - held[i - 1].at).toBeGreaterThanOrEqual(35);
      expect(held.length).toBeLessThanOrEqual(1 + (Date.now() - held[0].at) / 35);
      const triedWhileDown = new Set(starts.map((x) => x.key));
      down = false;
      await queue.idle();
      expect(holds).toEqual([true, false]);
      expect(failures).toEqual([]);
      expect(queue.counters).toMatchObject({ processed: 30, failed: 0 });
      // Jobs never tried during the outage ran once, on their first attempt.
      const untried = starts.filter((x) => !triedWhileDown.has(x.key));
      expect(untried.length).toBeGreaterThan(15);
      expect(untried.every((x) => x.attempt === 1)).toBe(true);
      expect(peakWhileDown).toBe(4);
    });

    it('does not hold for one batch that keeps failing while others get through', async () => {
      const holds: boolean[] = [];
      const { queue, failures } = makeQueue(
        {
          run: async (j) => {
            await new Promise((r) => setImmediate(r));
            if (j.key === 'raw/bad.csv') throw new Outage('AccessDenied on this key');
          },
          isOutage: (err) => err instanceof Outage,
          onHold: (holding) => holds.push(holding),
        },
        { concurrency: 2, maxAttempts: 4, retryBaseDelayMs: 1, retryMaxDelayMs: 1 },
      );
      queue.enqueue(job('raw/bad.csv'));
      for (let i = 0; i < 20; i++) queue.enqueue(job(`raw/${i}.csv`));
      await queue.idle();
      expect(holds).toEqual([]);
      expect(failures.map((f) => [f.job.key, f.attempts])).toEqual([['raw/bad.csv', 4]]);
      expect(queue.counters.processed).toBe(20);
    });
  });
});
