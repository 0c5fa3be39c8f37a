import { INestApplication, Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { configureApp } from '../../src/app.setup';
import { AppConfig } from '../../src/config/app-config';
import { ConfigModule } from '../../src/config/config.module';
import { IngestionModule } from '../../src/ingestion/ingestion.module';
import { MetricsModule } from '../../src/metrics/metrics.module';
import { StorageModule } from '../../src/storage/storage.module';
import {
  LoopbackServer,
  s3EventMessage,
  S3RecordSpec,
  s3TestEventMessage,
  SnsTestSigner,
  startLoopbackServer,
  TEST_BUCKET,
  TEST_TOPIC_ARN,
} from '../support/sns-signer';
import { RecordingSink } from './recording.sink';

type Envelope = Record<string, string>;

async function boot(env: Record<string, string>, sink: RecordingSink): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ConfigModule.forRoot(AppConfig.forTest(env)),
      MetricsModule,
      StorageModule,
      IngestionModule.register({ sink: { useValue: sink } }),
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  configureApp(app);
  await app.init();
  return app;
}

describe('POST /notify (signed SNS messages through the real app)', () => {
  let signer: SnsTestSigner;
  let foreign: LoopbackServer;
  let app: INestApplication;
  const sink = new RecordingSink();
  const CONFIRM_PATH = '/sns-certs/confirm';

  beforeAll(async () => {
    const confirmRoute = (req: { url?: string }, res: import('node:http').ServerResponse) => {
      if (!req.url?.startsWith(CONFIRM_PATH)) return false;
      res.writeHead(200, { 'content-type': 'text/xml' }).end('<ConfirmSubscriptionResponse/>');
      return true;
    };
    signer = await SnsTestSigner.start({ routes: [confirmRoute] });
    foreign = await startLoopbackServer([(_req, res) => (res.writeHead(200).end('ok'), true)]);
    app = await boot(
      {
        BUCKET_NAME: TEST_BUCKET,
        SNS_TOPIC_ARNS: `${TEST_TOPIC_ARN},arn:aws:sns:eu-west-1:123456789012:second-topic`,
        SNS_TRUSTED_CERT_URL_PREFIXES: signer.trustedPrefix,
        LOCAL_WATCH: 'false',
      },
      sink,
    );
  });

  afterAll(async () => {
    await app?.close();
    await signer?.close();
    await foreign?.close();
  });

  beforeEach(() => sink.clear());

  const post = (env: Envelope | string, options: { json?: boolean; type?: string | null } = {}) => {
    const body = typeof env === 'string' ? env : JSON.stringify(env);
    let req = request(app.getHttpServer())
      .post('/notify')
      .set('content-type', options.json ? 'application/json' : 'text/plain; charset=UTF-8');
    const type = options.type === undefined ? (typeof env === 'string' ? undefined : env.Type) : options.type;
    if (type !== null && type !== undefined) req = req.set('x-amz-sns-message-type', type);
    return req.send(body);
  };
  const notify = (records: S3RecordSpec[], options: Parameters<SnsTestSigner['notification']>[1] = {}) =>
    signer.notification(s3EventMessage(records), options);

  describe('accepted messages', () => {
    it.each([
      [1, 'text/plain'],
      [2, 'text/plain'],
      [1, 'application/json'],
      [2, 'application/json'],
    ] as const)('queues the object of a SignatureVersion %i notification sent as %s', async (version, contentType) => {
      const key = `raw/batch-${version}-${randomUUID()}.csv`;
      const env = notify([{ key, eTag: 'a1b2c3', sequencer: '0062E99A88DC407460' }], { signatureVersion: version });
      const res = await post(env, { json: contentType === 'application/json' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        type: 'Notification',
        messageId: env.MessageId,
        status: 'accepted',
        records: [{ key, outcome: 'queued' }],
      });
      expect(sink.jobs).toEqual([{ key, etag: 'a1b2c3', sequencer: '0062E99A88DC407460', source: 'sns' }]);
    });

    it.each([1, 2] as const)('confirms a SignatureVersion %i subscription by fetching its SubscribeURL once', async (version) => {
      const before = signer.server.count(CONFIRM_PATH);
      const env = signer.subscriptionConfirmation(`${signer.server.origin}${CONFIRM_PATH}?Action=ConfirmSubscription&Token=t${version}`, {
        signatureVersion: version,
      });
      const res = await post(env);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ type: 'SubscriptionConfirmation', messageId: env.MessageId, status: 'confirmed' });
      expect(signer.server.count(CONFIRM_PATH)).toBe(before + 1);
      expect(sink.jobs).toEqual([]);
    });

    it.each([1, 2] as const)('acknowledges a SignatureVersion %i UnsubscribeConfirmation without fetching anything', async (version) => {
      const before = signer.server.requests.length;
      const env = signer.subscriptionConfirmation(`${signer.server.origin}${CONFIRM_PATH}?Action=ConfirmSubscription`, {
        type: 'UnsubscribeConfirmation',
        signatureVersion: version,
      });
      const res = await post(env, { json: version === 2 });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('unsubscribed');
      expect(signer.server.requests.length).toBe(before);
    });

    it('accepts and ignores s3:TestEvent', async () => {
      const res = await post(signer.notification(s3TestEventMessage()));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'ignored', reason: 's3:TestEvent' });
      expect(sink.jobs).toEqual([]);
    });

    it('ignores a verified message that is not an S3 event', async () => {
      const res = await post(signer.notification('hello, world', { subject: 'hi' }));
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('ignored');
      expect(sink.jobs).toEqual([]);
    });

    it('decodes URL-encoded keys as S3 does: spaces, plus signs and non-ASCII characters', async () => {
      const keys = ['raw/my batch 1.csv', 'raw/café_温度 €.csv', 'raw/a+b=c&d.csv', 'raw/sub dir/x%y.csv'];
      const env = notify(keys.map((key, i) => ({ key, eTag: `e${i}` })));
      expect(env.Message).toContain('raw/my+batch+1.csv');
      expect(env.Message).toContain('raw/caf%C3%A9_%E6%B8%A9%E5%BA%A6+%E2%82%AC.csv');
      expect(env.Message).toContain('raw/a%2Bb%3Dc%26d.csv');
      const res = await post(env);
      expect(res.status).toBe(200);
      expect(sink.keys()).toEqual(keys);
    });

    it('ignores records outside raw/, not ending in .csv, for another bucket, not ObjectCreated, or undecodable', async () => {
      const env = signer.notification(
        JSON.stringify({
          Records: [
            ...JSON.parse(
              s3EventMessage([
                { key: 'processed/x.csv', eTag: '1' },
                { key: 'raw/x.json', eTag: '2' },
                { key: 'raw/other-bucket.csv', eTag: '3', bucket: 'someone-elses-bucket' },
                { key: 'raw/deleted.csv', eTag: '4', eventName: 'ObjectRemoved:Delete' },
                { key: 'raw/../state/baseline.csv', eTag: '5' },
                { key: 'raw/good.csv', eTag: '6' },
                { key: 'raw/UPPER.CSV', eTag: '8' },
                { key: 'raw/.csv', eTag: '9' },
              ]),
            ).Records,
            { eventName: 'ObjectCreated:Put', s3: { bucket: { name: TEST_BUCKET }, object: { key: 'raw/%FF.csv', eTag: '7' } } },
          ],
        }),
      );
      const res = await post(env);
      expect(res.status).toBe(200);
      const outcomes = Object.fromEntries(res.body.records.map((r: { key: string; outcome: string }) => [r.key, r.outcome]));
      expect(outcomes).toEqual({
        'processed/x.csv': 'ignored',
        'raw/x.json': 'ignored',
        'raw/other-bucket.csv': 'ignored',
        'raw/deleted.csv': 'ignored',
        'raw/../state/baseline.csv': 'ignored',
        'raw/good.csv': 'queued',
        'raw/UPPER.CSV': 'queued',
        'raw/.csv': 'ignored',
        'raw/%FF.csv': 'ignored',
      });
      expect(sink.keys()).toEqual(['raw/good.csv', 'raw/UPPER.CSV']);
    });
  });

  describe('duplicates', () => {
    it('handles a redelivered MessageId once', async () => {
      const env = notify([{ key: `raw/${randomUUID()}.csv`, eTag: 'x' }]);
      expect((await post(env)).body.status).toBe('accepted');
      const again = await post(env);
      expect(again.status).toBe(200);
      expect(again.body.status).toBe('duplicate');
      expect(sink.jobs).toHaveLength(1);
    });

    it('handles the same key and eTag once across messages, but a new eTag again', async () => {
      const key = `raw/${randomUUID()}.csv`;
      await post(notify([{ key, eTag: 'v1', sequencer: '01' }]));
      const dup = await post(notify([{ key, eTag: 'v1', sequencer: '01' }]));
      expect(dup.body.records).toEqual([{ key, outcome: 'duplicate' }]);
      const rewritten = await post(notify([{ key, eTag: 'v2', sequencer: '02' }]));
      expect(rewritten.body.records).toEqual([{ key, outcome: 'queued' }]);
      expect(sink.jobs.map((j) => j.etag)).toEqual(['v1', 'v2']);
    });

    it('uses the sequencer when a record has no eTag', async () => {
      const key = `raw/${randomUUID()}.csv`;
      await post(notify([{ key, sequencer: 'A1' }]));
      await post(notify([{ key, sequencer: 'A1' }]));
      await post(notify([{ key, sequencer: 'A2' }]));
      expect(sink.jobs.map((j) => j.sequencer)).toEqual(['A1', 'A2']);
    });

    it('enqueues each key exactly once in a burst of 500 notifications with redeliveries and repeated events', async () => {
      const server = app.getHttpServer();
      if (!server.listening) await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const { port } = server.address() as AddressInfo;
      const keys = Array.from({ length: 200 }, (_, i) => `raw/burst ${i} ü.csv`);
      const envelopes: Envelope[] = [];
      for (const [i, key] of keys.entries()) {
        const first = notify([{ key, eTag: `etag-${i}`, sequencer: `${i}`.padStart(8, '0') }], { signatureVersion: i % 2 ? 2 : 1 });
        envelopes.push(first);
        if (i % 2 === 0) envelopes.push(first); // SNS redelivers the same message
        if (i % 4 === 0) envelopes.push(notify([{ key, eTag: `etag-${i}`, sequencer: `${i}`.padStart(8, '0') }])); // S3 repeats the event
      }
      while (envelopes.length < 500) envelopes.push(envelopes[envelopes.length % 300]);
      expect(envelopes).toHaveLength(500);
      // Interleave so that copies of one message are in flight together.
      envelopes.sort((a, b) => (a.MessageId < b.MessageId ? -1 : 1));

      const statuses = await Promise.all(
        envelopes.map((env) =>
          fetch(`http://127.0.0.1:${port}/notify`, {
            method: 'POST',
            headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' },
            body: JSON.stringify(env),
          }).then(async (r) => {
            await r.arrayBuffer();
            return r.status;
          }),
        ),
      );
      expect(statuses.every((s) => s === 200)).toBe(true);
      expect(sink.jobs).toHaveLength(keys.length);
      expect(new Set(sink.keys())).toEqual(new Set(keys));
    });
  });

  describe('refused messages (403: nothing processed, nothing fetched)', () => {
    it('refuses a forged signature', async () => {
      const env = notify([{ key: 'raw/forged.csv', eTag: 'f' }]);
      env.Signature = Buffer.from('x'.repeat(256)).toString('base64');
      const res = await post(env);
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ statusCode: 403, error: 'Forbidden', message: 'signature does not match' });
      expect(sink.jobs).toEqual([]);
    });

    it('refuses a message tampered with after signing (another key in the S3 event)', async () => {
      const env = notify([{ key: 'raw/innocent.csv', eTag: 'i' }]);
      env.Message = env.Message.replace('innocent', 'evil');
      const res = await post(env);
      expect(res.status).toBe(403);
      expect(sink.jobs).toEqual([]);
    });

    it('refuses a topic that is not in SNS_TOPIC_ARNS, without fetching its certificate', async () => {
      const other = await SnsTestSigner.start();
      try {
        const env = other.notification(s3EventMessage([{ key: 'raw/t.csv', eTag: 't' }]), {
          topicArn: 'arn:aws:sns:eu-west-1:999999999999:not-ours',
          certUrl: `${signer.trustedPrefix}other.pem`,
        });
        const before = signer.server.requests.length;
        const res = await post(env);
        expect(res.status).toBe(403);
        expect(res.body.message).toContain('not in SNS_TOPIC_ARNS');
        expect(signer.server.requests.length).toBe(before);
        expect(sink.jobs).toEqual([]);
      } finally {
        await other.close();
      }
    });

    it.each([
      ['a look-alike host', 'https://sns.eu-west-1.amazonaws.com.evil.example/SimpleNotificationService-x.pem'],
      ['a host ending like SNS', 'https://evilsns.eu-west-1.amazonaws.com/SimpleNotificationService-x.pem'],
      ['plain HTTP on an SNS host', 'http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-x.pem'],
      // Shaped like SNS but never a certificate: refused before any DNS lookup or fetch.
      ['an SNS host, but a path SNS never names a certificate', 'https://sns.eu-west-1.amazonaws.com/anything.pem'],
      ['an invented region', 'https://sns.xx-attacker-1.amazonaws.com/SimpleNotificationService-0123abcd.pem'],
    ])('refuses a certificate URL on %s', async (_why, certUrl) => {
      const res = await post(notify([{ key: 'raw/c.csv', eTag: 'c' }], { certUrl }));
      expect(res.status).toBe(403);
      expect(res.body.message).toContain('not an SNS certificate URL');
      expect(sink.jobs).toEqual([]);
    });

    it('refuses a certificate on an untrusted loopback server without contacting it', async () => {
      const res = await post(notify([{ key: 'raw/c.csv', eTag: 'c' }], { certUrl: `${foreign.origin}/SimpleNotificationService-x.pem` }));
      expect(res.status).toBe(403);
      expect(foreign.requests).toEqual([]);
    });

    it.each([
      ['a foreign host', () => `${foreign.origin}/?Action=ConfirmSubscription&Token=x`],
      ['plain HTTP on an SNS host', () => 'http://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=x'],
      ['the instance metadata address', () => 'http://169.254.169.254/latest/meta-data/iam/'],
    ])('refuses a signed SubscriptionConfirmation whose SubscribeURL is on %s, fetching nothing', async (_why, url) => {
      const before = signer.server.requests.length;
      const res = await post(signer.subscriptionConfirmation(url()));
      expect(res.status).toBe(403);
      expect(res.body.message).toContain('SubscribeURL');
      expect(foreign.requests).toEqual([]);
      expect(signer.server.requests.length).toBe(before);
    });

    it('does not fetch the SubscribeURL of a confirmation that fails verification', async () => {
      const before = signer.server.count(CONFIRM_PATH);
      const env = signer.subscriptionConfirmation(`${signer.server.origin}${CONFIRM_PATH}?Token=a`);
      env.Token = 'changed';
      const res = await post(env);
      expect(res.status).toBe(403);
      expect(signer.server.count(CONFIRM_PATH)).toBe(before);
    });

    it('refuses a replayed message older than SNS would ever deliver', async () => {
      const res = await post(notify([{ key: 'raw/old.csv', eTag: 'o' }], { timestamp: new Date(Date.now() - 3 * 3600_000).toISOString() }));
      expect(res.status).toBe(403);
      expect(sink.jobs).toEqual([]);
    });
  });

  describe('malformed requests (400) and limits', () => {
    it('requires the x-amz-sns-message-type header to match the body', async () => {
      const env = notify([{ key: 'raw/h.csv', eTag: 'h' }]);
      expect((await post(env, { type: null })).status).toBe(400);
      const res = await post(env, { type: 'SubscriptionConfirmation' });
      expect(res.status).toBe(400);
      expect(res.body.message).toContain('does not match');
      expect(sink.jobs).toEqual([]);
    });

    it('checks x-amz-sns-message-id and x-amz-sns-topic-arn when sent', async () => {
      const env = notify([{ key: 'raw/h.csv', eTag: 'h' }]);
      const base = () =>
        request(app.getHttpServer()).post('/notify').set('content-type', 'text/plain').set('x-amz-sns-message-type', 'Notification');
      expect((await base().set('x-amz-sns-message-id', 'other').send(JSON.stringify(env))).status).toBe(400);
      expect((await base().set('x-amz-sns-topic-arn', 'arn:aws:sns:eu-west-1:123456789012:x').send(JSON.stringify(env))).status).toBe(400);
      const ok = await base().set('x-amz-sns-message-id', env.MessageId).set('x-amz-sns-topic-arn', env.TopicArn).send(JSON.stringify(env));
      expect(ok.status).toBe(200);
    });

    it.each([
      ['not JSON (text/plain)', '{"Type": "Notification",', {}],
      ['not JSON (application/json)', '{"Type": "Notification",', { json: true }],
      ['a JSON array', '[1,2]', {}],
      ['an unknown Type', JSON.stringify({ Type: 'Hello' }), { type: 'Hello' }],
      ['missing fields', JSON.stringify({ Type: 'Notification', MessageId: 'x' }), { type: 'Notification' }],
      ['an empty body', '', { type: 'Notification' }],
    ])('answers 400 with a JSON error for %s', async (_why, body, options) => {
      const res = await post(body, options as { json?: boolean; type?: string });
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(res.body.statusCode).toBe(400);
    });

    it('answers 400 to a body in a content type it does not read', async () => {
      const env = notify([{ key: 'raw/ct.csv', eTag: 'ct' }]);
      const res = await request(app.getHttpServer())
        .post('/notify')
        .set('content-type', 'application/octet-stream')
        .set('x-amz-sns-message-type', 'Notification')
        .send(JSON.stringify(env));
      expect(res.status).toBe(400);
      expect(sink.jobs).toEqual([]);
    });

    it.each([false, true])('refuses a 300 KB body with 413 and a JSON error (json=%s)', async (json) => {
      const env = notify([{ key: 'raw/big.csv', eTag: 'b' }], { subject: 'x'.repeat(300 * 1024) });
      const res = await post(env, { json });
      expect(res.status).toBe(413);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(res.body.statusCode).toBe(413);
      expect(sink.jobs).toEqual([]);
    });

    it('accepts a message just under the 256 KB SNS limit', async () => {
      const env = notify([{ key: 'raw/just-under.csv', eTag: 'u' }], { subject: 'x'.repeat(250 * 1024) });
      const res = await post(env);
      expect(res.status).toBe(200);
      expect(sink.keys()).toEqual(['raw/just-under.csv']);
    });
  });

  describe('when processing cannot take the object', () => {
    it('answers 503 with Retry-After, and a redelivery is processed (not mistaken for a duplicate)', async () => {
      const key = `raw/${randomUUID()}.csv`;
      const env = notify([{ key, eTag: 'q' }]);
      sink.failWith = new Error('queue full');
      const res = await post(env);
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBeDefined();
      expect(res.body.message).toContain('queue full');
      sink.failWith = undefined;
      const retry = await post(env);
      expect(retry.status).toBe(200);
      expect(retry.body.records).toEqual([{ key, outcome: 'queued' }]);
      expect(sink.keys()).toEqual([key]);
    });

    it('answers 503 when the signing certificate cannot be fetched, so that SNS retries', async () => {
      // A trusted certificate host that is down: a closed loopback port.
      const gone = await startLoopbackServer();
      await gone.close();
      const url = `${gone.origin}/SimpleNotificationService-x.pem`;
      const local = await boot({ BUCKET_NAME: TEST_BUCKET, SNS_TRUSTED_CERT_URL_PREFIXES: `${gone.origin}/`, LOCAL_WATCH: 'false' }, sink);
      try {
        const res = await request(local.getHttpServer())
          .post('/notify')
          .set('content-type', 'text/plain')
          .set('x-amz-sns-message-type', 'Notification')
          .send(JSON.stringify(notify([{ key: 'raw/x.csv', eTag: 'x' }], { certUrl: url })));
        expect(res.status).toBe(503);
        expect(sink.jobs).toEqual([]);
      } finally {
        await local.close();
      }
    });
  });

  it('counts messages by type and outcome in /metrics', async () => {
    const count = async (type: string, outcome: string) => {
      const text = (await request(app.getHttpServer()).get('/metrics')).text;
      const line = text.split('\n').find((l) => l.startsWith(`anomaly_notifications_total{type="${type}",outcome="${outcome}"}`));
      return line ? Number(line.split(' ').pop()) : 0;
    };
    const accepted = await count('Notification', 'accepted');
    const refused = await count('Notification', 'refused');
    const malformed = await count('unknown', 'malformed');
    await post(notify([{ key: `raw/${randomUUID()}.csv`, eTag: 'm' }]));
    await post({ ...notify([{ key: 'raw/m.csv', eTag: 'm' }]), Signature: 'AAAA' });
    await post('not json', { type: 'Notification' });
    expect(await count('Notification', 'accepted')).toBe(accepted + 1);
    expect(await count('Notification', 'refused')).toBe(refused + 1);
    expect(await count('unknown', 'malformed')).toBe(malformed + 1);
  });

  it('documents POST /notify in the OpenAPI document: body schema and every response', async () => {
    const res = await request(app.getHttpServer()).get('/docs-json');
    expect(res.status).toBe(200);
    const op = res.body.paths['/notify'].post;
    expect(Object.keys(op.responses).sort()).toEqual(['200', '400', '403', '413', '503']);
    expect(Object.keys(op.requestBody.content).sort()).toEqual(['application/json', 'text/plain']);
    const envelope = res.body.components.schemas.SnsEnvelopeDto;
    expect(Object.keys(envelope.properties)).toEqual(expect.arrayContaining(['Type', 'MessageId', 'Signature', 'SigningCertURL', 'SubscribeURL']));
    expect(res.body.components.schemas.NotifyResultDto.properties.records).toBeDefined();
  });
});

describe('POST /notify in local mode with verification switched off', () => {
  it('warns at start-up, accepts unsigned messages, and takes any bucket name (the data directory is the bucket)', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const sink = new RecordingSink();
    const app = await boot({ SNS_VERIFY_SIGNATURES: 'false', LOCAL_WATCH: 'false', DATA_DIR: '/tmp/anomaly-ingestion-unused' }, sink);
    try {
      expect(warn.mock.calls.some(([m]) => String(m).includes('SNS_VERIFY_SIGNATURES=false'))).toBe(true);
      const env = {
        Type: 'Notification',
        MessageId: randomUUID(),
        TopicArn: TEST_TOPIC_ARN,
        Message: s3EventMessage([{ key: 'raw/local file.csv', eTag: 'l', bucket: 'whatever-bucket' }]),
        Timestamp: new Date().toISOString(),
        SignatureVersion: '1',
        Signature: 'AAAA',
        SigningCertURL: 'https://example.invalid/not-fetched.pem',
      };
      const res = await request(app.getHttpServer())
        .post('/notify')
        .set('content-type', 'text/plain')
        .set('x-amz-sns-message-type', 'Notification')
        .send(JSON.stringify(env));
      expect(res.status).toBe(200);
      expect(sink.keys()).toEqual(['raw/local file.csv']);
    } finally {
      warn.mockRestore();
      await app.close();
    }
  });

  it('verifies signatures unless told otherwise', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const app = await boot({ LOCAL_WATCH: 'false', DATA_DIR: '/tmp/anomaly-ingestion-unused' }, new RecordingSink());
    try {
      expect(warn.mock.calls.some(([m]) => String(m).includes('SNS_VERIFY_SIGNATURES'))).toBe(false);
      const res = await request(app.getHttpServer())
        .post('/notify')
        .set('content-type', 'text/plain')
        .set('x-amz-sns-message-type', 'Notification')
        .send(
          JSON.stringify({
            Type: 'Notification',
            MessageId: 'm',
            TopicArn: TEST_TOPIC_ARN,
            Message: '{}',
            Timestamp: new Date().toISOString(),
            SignatureVersion: '1',
            Signature: 'AAAA',
            SigningCertURL: 'https://example.invalid/x.pem',
          }),
        );
      expect(res.status).toBe(403);
    } finally {
      warn.mockRestore();
      await app.close();
    }
  });
});
