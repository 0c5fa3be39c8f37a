import { makeSelfSignedCertificate, startLoopbackServer } from '../../test/support/sns-signer';
import { httpGet, HttpGetError, HttpGetResult } from './http-get';
import { IngestionUnavailableError, SnsVerificationError } from './ingestion.errors';
import { SigningCertCache, SigningCertCacheOptions } from './signing-cert.cache';

const URL_A = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0a.pem';
const URL_B = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0b.pem';

/** A cache whose GET answers from `answer` and records every URL asked for. */
function cacheAnswering(answer: (url: string) => Promise<HttpGetResult>, options: SigningCertCacheOptions = {}) {
  const fetched: string[] = [];
  const cache = new SigningCertCache({
    ...options,
    get: (url) => {
      fetched.push(url);
      return answer(url);
    },
  });
  return { cache, fetched };
}

describe('SigningCertCache: failures and limits', () => {
  const cert = makeSelfSignedCertificate();

  it('remembers a refused certificate URL: no second fetch until failureTtlMs passed', async () => {
    let now = Date.now();
    const { cache, fetched } = cacheAnswering(async () => ({ status: 404, body: '' }), { now: () => now, failureTtlMs: 60_000 });
    await expect(cache.publicKey(URL_A)).rejects.toThrow(SnsVerificationError);
    await expect(cache.publicKey(URL_A)).rejects.toThrow(/answered 404 \(remembered/);
    now += 59_000;
    await expect(cache.publicKey(URL_A)).rejects.toThrow(SnsVerificationError);
    expect(fetched).toEqual([URL_A]);
    now += 1_000;
    await expect(cache.publicKey(URL_A)).rejects.toThrow(SnsVerificationError);
    expect(fetched).toEqual([URL_A, URL_A]);
  });

  it('remembers a transient failure only briefly, and still as transient (503)', async () => {
    let now = Date.now();
    let status = 503;
    const { cache, fetched } = cacheAnswering(async () => ({ status, body: status === 200 ? cert.certPem : '' }), {
      now: () => now,
      transientFailureTtlMs: 5_000,
      failureTtlMs: 600_000,
    });
    await expect(cache.publicKey(URL_A)).rejects.toThrow(IngestionUnavailableError);
    await expect(cache.publicKey(URL_A)).rejects.toThrow(IngestionUnavailableError);
    expect(fetched).toHaveLength(1);
    status = 200;
    now += 5_000; // the host is back: the next delivery fetches again and succeeds
    await expect(cache.publicKey(URL_A)).resolves.toBeDefined();
    expect(fetched).toHaveLength(2);
  });

  it('keeps at most maxFailures failed URLs, forgetting the oldest', async () => {
    const { cache, fetched } = cacheAnswering(async () => ({ status: 403, body: '' }), { maxFailures: 2 });
    for (const u of ['u1', 'u2', 'u3', 'u1']) await expect(cache.publicKey(u)).rejects.toThrow(SnsVerificationError);
    expect(fetched).toEqual(['u1', 'u2', 'u3', 'u1']);
    await expect(cache.publicKey('u3')).rejects.toThrow(SnsVerificationError);
    expect(fetched).toHaveLength(4);
  });

  it.each([400, 401, 403, 404, 410])('refuses a certificate answered with %i (403), but takes 429 and 5xx as transient (503)', async (status) => {
    await expect(cacheAnswering(async () => ({ status, body: '' })).cache.publicKey(URL_A)).rejects.toThrow(SnsVerificationError);
    await expect(cacheAnswering(async () => ({ status: 429, body: '' })).cache.publicKey(URL_A)).rejects.toThrow(IngestionUnavailableError);
    await expect(cacheAnswering(async () => ({ status: 502, body: '' })).cache.publicKey(URL_A)).rejects.toThrow(IngestionUnavailableError);
  });

  it('refuses a certificate host that does not exist (ENOTFOUND: 403) and stops fetching from that host', async () => {
    const { cache, fetched } = cacheAnswering(async (url) => {
      throw new HttpGetError(`getaddrinfo ENOTFOUND ${new URL(url).hostname}`, 'ENOTFOUND');
    });
    const invented = 'https://sns.xx-north-9.amazonaws.com/SimpleNotificationService-01.pem';
    await expect(cache.publicKey(invented)).rejects.toThrow(SnsVerificationError);
    await expect(cache.publicKey(invented.replace('-01.', '-02.'))).rejects.toThrow(/ENOTFOUND.*remembered/);
    expect(fetched).toEqual([invented]);
  });

  it('takes a temporary resolver failure (EAI_AGAIN) as transient (503)', async () => {
    const { cache } = cacheAnswering(async () => {
      throw new HttpGetError('getaddrinfo EAI_AGAIN sns.us-east-1.amazonaws.com', 'EAI_AGAIN');
    });
    await expect(cache.publicKey(URL_A)).rejects.toThrow(IngestionUnavailableError);
  });

  it('gets the system error code from a failed GET, and does not take a refused connection for a missing host', async () => {
    const gone = await startLoopbackServer();
    await gone.close();
    await expect(httpGet(`${gone.origin}/c.pem`, { timeoutMs: 2000, maxBytes: 1024 })).rejects.toMatchObject({
      name: 'HttpGetError',
      code: 'ECONNREFUSED',
    });
    const cache = new SigningCertCache({ timeoutMs: 2000 });
    await expect(cache.publicKey(`${gone.origin}/c.pem`)).rejects.toThrow(IngestionUnavailableError);
    await expect(cache.publicKey(`${gone.origin}/d.pem`)).rejects.toThrow(/could not be fetched: .*ECONNREFUSED/);
    expect(cache.fetchCount).toBe(2);
  });

  it('fetches at most maxConcurrentFetches distinct certificates at once; beyond that answers 503 without fetching', async () => {
    const waiting = new Map<string, (r: HttpGetResult) => void>();
    const { cache, fetched } = cacheAnswering((url) => new Promise((resolve) => waiting.set(url, resolve)), { maxConcurrentFetches: 2 });
    const a = cache.publicKey(URL_A);
    const b = cache.publicKey(URL_B);
    const a2 = cache.publicKey(URL_A); // joins the fetch in flight: no slot needed
    await expect(cache.publicKey('https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0c.pem')).rejects.toThrow(
      /too many signing certificates/,
    );
    await expect(cache.publicKey('https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0c.pem')).rejects.toThrow(IngestionUnavailableError);
    expect(fetched).toEqual([URL_A, URL_B]);

    waiting.get(URL_A)!({ status: 200, body: cert.certPem });
    waiting.get(URL_B)!({ status: 404, body: '' });
    await expect(a).resolves.toBeDefined();
    await expect(a2).resolves.toBe(await a);
    await expect(b).rejects.toThrow(SnsVerificationError);
    // Slots are free again, and the refused URL is not held against the cap.
    const c = cache.publicKey('https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0c.pem');
    expect(fetched).toHaveLength(3);
    waiting.get(fetched[2])!({ status: 200, body: cert.certPem });
    await expect(c).resolves.toBeDefined();
  });

  it('lets one source address take one fetch slot at a time: forged URLs from one place leave room for SNS', async () => {
    const waiting = new Map<string, (r: HttpGetResult) => void>();
    const { cache, fetched } = cacheAnswering((url) => new Promise((resolve) => waiting.set(url, resolve)), { maxConcurrentFetches: 4 });
    const made = (i: number) => `https://sns.us-east-1.amazonaws.com/SimpleNotificationService-f${i}.pem`;
    const attacker = cache.publicKey(made(0), '203.0.113.9');
    void (attacker as Promise<unknown>).catch(() => undefined);
    for (let i = 1; i < 20; i++) await expect(cache.publicKey(made(i), '203.0.113.9')).rejects.toThrow(/already in flight/);
    expect(fetched).toEqual([made(0)]);
    // A genuine delivery from elsewhere is fetched and verified meanwhile.
    const genuine = cache.publicKey(URL_A, '54.240.197.1');
    waiting.get(URL_A)!({ status: 200, body: cert.certPem });
    await expect(genuine).resolves.toBeDefined();
    // Once its fetch is over, the attacker's address may try again (and is refused by URL, as any).
    waiting.get(made(0))!({ status: 404, body: '' });
    await expect(attacker).rejects.toThrow(SnsVerificationError);
    const again = cache.publicKey(made(1), '203.0.113.9');
    expect(fetched).toEqual([made(0), URL_A, made(1)]);
    waiting.get(made(1))!({ status: 404, body: '' });
    await expect(again).rejects.toThrow(SnsVerificationError);
  });

  it('keeps its certificates across a restart when given a file, and checks them again when loading', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'certs-'));
    try {
      const persistPath = join(dir, 'sns-certificates.json');
      const first = cacheAnswering(async () => ({ status: 200, body: cert.certPem }), { persistPath });
      await first.cache.publicKey(URL_A);
      await first.cache.saved();
      const second = cacheAnswering(async () => ({ status: 500, body: '' }), { persistPath });
      expect(second.cache.publicKey(URL_A)).not.toBeInstanceOf(Promise); // cached: no fetch
      expect(second.fetched).toEqual([]);
      writeFileSync(persistPath, JSON.stringify([{ url: URL_B, pem: 'not a certificate' }, { nonsense: 1 }]));
      const third = cacheAnswering(async () => ({ status: 404, body: '' }), { persistPath });
      await expect(third.cache.publicKey(URL_B)).rejects.toThrow(SnsVerificationError); // not trusted from the file
      expect(third.fetched).toEqual([URL_B]);
      writeFileSync(persistPath, '{broken');
      expect(() => cacheAnswering(async () => ({ status: 404, body: '' }), { persistPath })).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
