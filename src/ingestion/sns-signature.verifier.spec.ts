import { makeSelfSignedCertificate, s3EventMessage, SnsTestSigner } from '../../test/support/sns-signer';
import { IngestionUnavailableError, SnsVerificationError } from './ingestion.errors';
import { parseSnsMessage, SnsMessage } from './sns-message';
import { SigningCertCache } from './signing-cert.cache';
import { SnsSignatureVerifier } from './sns-signature.verifier';
import { SnsUrlPolicy } from './sns-url.policy';

describe('SnsSignatureVerifier', () => {
  let signer: SnsTestSigner;

  beforeAll(async () => {
    signer = await SnsTestSigner.start();
  });
  afterAll(() => signer.close());

  const verifierFor = (s: SnsTestSigner, certs = new SigningCertCache(), extra: Partial<ConstructorParameters<typeof SnsSignatureVerifier>[0]> = {}) =>
    new SnsSignatureVerifier({ policy: new SnsUrlPolicy([s.trustedPrefix]), certs, ...extra });
  const parse = (env: Record<string, string>): SnsMessage => parseSnsMessage(JSON.stringify(env));
  const event = s3EventMessage([{ key: 'raw/a.csv', eTag: 'e1' }]);

  it.each([1, 2] as const)('accepts all three message types signed with SignatureVersion %i', async (version) => {
    const verifier = verifierFor(signer);
    await expect(verifier.verify(parse(signer.notification(event, { signatureVersion: version })))).resolves.toBeUndefined();
    await expect(verifier.verify(parse(signer.notification(event, { signatureVersion: version, subject: 'Amazon S3 Notification' })))).resolves.toBeUndefined();
    const confirm = `${signer.server.origin}/sns-certs/confirm`;
    await expect(verifier.verify(parse(signer.subscriptionConfirmation(confirm, { signatureVersion: version })))).resolves.toBeUndefined();
    await expect(
      verifier.verify(parse(signer.subscriptionConfirmation(confirm, { signatureVersion: version, type: 'UnsubscribeConfirmation' }))),
    ).resolves.toBeUndefined();
  });

  it('refuses a signature made with the other algorithm (version 1 label on a SHA-256 signature)', async () => {
    const env = signer.notification(event, { signatureVersion: 2 });
    env.SignatureVersion = '1';
    await expect(verifierFor(signer).verify(parse(env))).rejects.toThrow(SnsVerificationError);
  });

  it.each(['Message', 'MessageId', 'Timestamp', 'TopicArn', 'Subject'])('refuses a message whose %s was changed after signing', async (field) => {
    const env = signer.notification(event, { subject: 'S' });
    env[field] = field === 'Timestamp' ? new Date(Date.now() - 1000).toISOString() : field === 'TopicArn' ? 'arn:aws:sns:eu-west-1:123456789012:other' : `${env[field]}x`;
    await expect(verifierFor(signer).verify(parse(env))).rejects.toThrow('signature does not match');
  });

  it('refuses a confirmation whose SubscribeURL or Token was changed after signing', async () => {
    const env = signer.subscriptionConfirmation(`${signer.server.origin}/sns-certs/confirm`);
    await expect(verifierFor(signer).verify(parse({ ...env, SubscribeURL: 'https://sns.us-east-1.amazonaws.com/?x' }))).rejects.toThrow(SnsVerificationError);
    await expect(verifierFor(signer).verify(parse({ ...env, Token: 'abc' }))).rejects.toThrow(SnsVerificationError);
  });

  it('refuses a message signed by another key, even with the trusted certificate URL', async () => {
    const forger = await SnsTestSigner.start();
    try {
      const env = forger.notification(event, { certUrl: signer.certUrl });
      await expect(verifierFor(signer).verify(parse(env))).rejects.toThrow('signature does not match');
    } finally {
      await forger.close();
    }
  });

  it('refuses a garbage signature', async () => {
    const env = { ...signer.notification(event), Signature: Buffer.from('nope').toString('base64') };
    await expect(verifierFor(signer).verify(parse(env))).rejects.toThrow('signature does not match');
  });

  it('does not fetch a certificate URL outside SNS and the trusted prefixes', async () => {
    const foreign = await SnsTestSigner.start();
    try {
      const verifier = verifierFor(signer);
      // Signed correctly by `foreign`, certificate served by `foreign`, but its URL is not trusted.
      await expect(verifier.verify(parse(foreign.notification(event)))).rejects.toThrow('not an SNS certificate URL');
      await expect(verifier.verify(parse(signer.notification(event, { certUrl: 'http://sns.us-east-1.amazonaws.com/x.pem' })))).rejects.toThrow(
        'not an SNS certificate URL',
      );
      expect(foreign.server.requests).toEqual([]);
    } finally {
      await foreign.close();
    }
  });

  it('refuses messages older than the window or dated in the future', async () => {
    const verifier = verifierFor(signer);
    const old = signer.notification(event, { timestamp: new Date(Date.now() - 2 * 3600_000).toISOString() });
    await expect(verifier.verify(parse(old))).rejects.toThrow('too old');
    const future = signer.notification(event, { timestamp: new Date(Date.now() + 3600_000).toISOString() });
    await expect(verifier.verify(parse(future))).rejects.toThrow('future');
  });

  it('fetches a certificate once for many messages, also when they arrive together', async () => {
    const s = await SnsTestSigner.start();
    try {
      const certs = new SigningCertCache();
      const verifier = verifierFor(s, certs);
      const messages = Array.from({ length: 20 }, () => parse(s.notification(event)));
      await Promise.all(messages.map((m) => verifier.verify(m)));
      await verifier.verify(parse(s.notification(event)));
      expect(s.certFetches).toBe(1);
      expect(certs.fetchCount).toBe(1);
    } finally {
      await s.close();
    }
  });

  it('fetches again once the cached certificate expired, and keeps at most maxEntries', async () => {
    let now = Date.now();
    const fetched: string[] = [];
    const cert = makeSelfSignedCertificate();
    const certs = new SigningCertCache({
      ttlMs: 1000,
      maxEntries: 2,
      now: () => now,
      get: async (url) => {
        fetched.push(url);
        return { status: 200, body: cert.certPem };
      },
    });
    await certs.publicKey('u1');
    await certs.publicKey('u1');
    now += 1001;
    await certs.publicKey('u1');
    expect(fetched).toEqual(['u1', 'u1']);
    await certs.publicKey('u2');
    await certs.publicKey('u3'); // evicts u1, the least recently used
    await certs.publicKey('u1');
    expect(fetched).toEqual(['u1', 'u1', 'u2', 'u3', 'u1']);
  });

  it('refuses an expired certificate, a 404 and a body that is not a certificate (403)', async () => {
    const expired = makeSelfSignedCertificate({ notBefore: new Date(Date.now() - 48 * 3600_000), notAfter: new Date(Date.now() - 3600_000) });
    const answer = async (status: number, body: string) =>
      new SigningCertCache({ get: async () => ({ status, body }) }).publicKey('https://sns.us-east-1.amazonaws.com/x.pem');
    await expect(answer(200, expired.certPem)).rejects.toThrow(/not valid now/);
    await expect(answer(200, 'hello')).rejects.toThrow(SnsVerificationError);
    await expect(answer(404, '')).rejects.toThrow(SnsVerificationError);
  });

  it('reports an unreachable or failing certificate host as unavailable (503: SNS retries)', async () => {
    await expect(new SigningCertCache({ get: async () => ({ status: 500, body: '' }) }).publicKey('u')).rejects.toThrow(IngestionUnavailableError);
    const dead = await SnsTestSigner.start();
    const url = dead.certUrl;
    await dead.close();
    await expect(new SigningCertCache({ timeoutMs: 2000 }).publicKey(url)).rejects.toThrow(IngestionUnavailableError);
  });

  it('gives up on a certificate host that does not answer, within the timeout', async () => {
    const net = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s)); // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as import('node:net').AddressInfo;
    try {
      await expect(new SigningCertCache({ timeoutMs: 200 }).publicKey(`http://127.0.0.1:${port}/c.pem`)).rejects.toThrow(/no answer within 200 ms/);
    } finally {
      sockets.forEach((s) => s.destroy());
      silent.close();
    }
  });

  it('fetches the certificate over HTTPS from a loopback server with a self-made CA', async () => {
    const s = await SnsTestSigner.start({ https: true });
    try {
      expect(s.certUrl.startsWith('https://')).toBe(true);
      const ok = verifierFor(s, new SigningCertCache({ ca: [s.cert.certPem] }));
      await expect(ok.verify(parse(s.notification(event, { signatureVersion: 2 })))).resolves.toBeUndefined();
      // Without that CA the TLS handshake fails: the certificate cannot be fetched.
      const noCa = verifierFor(s, new SigningCertCache());
      await expect(noCa.verify(parse(s.notification(event)))).rejects.toThrow(IngestionUnavailableError);
    } finally {
      await s.close();
    }
  });
});
