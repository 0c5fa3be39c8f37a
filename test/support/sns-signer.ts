import { generateKeyPairSync, KeyObject, randomBytes, randomUUID, sign } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { AddressInfo } from 'node:net';

/**
 * Test double for Amazon SNS: a self-made RSA key and X.509 certificate, the certificate served on a
 * loopback HTTP or HTTPS server (a "trusted certificate URL prefix" in the service's config), and
 * envelopes signed exactly as SNS signs them (SignatureVersion 1 = SHA1withRSA, 2 = SHA256withRSA).
 */

// ---------- a minimal DER encoder, enough for one self-signed certificate

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, content: Buffer) => Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);
const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
/**
 * A DER INTEGER from unsigned big-endian bytes, minimally encoded: leading zero bytes dropped, one
 * 0x00 put back when the top bit is set. OpenSSL refuses a serial like 00 05 ... ("illegal
 * padding"), which a random 12-byte serial starts with once in ~512 certificates.
 */
const int = (bytes: Buffer) => {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  return tlv(0x02, trimmed[0] & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
};
const nul = () => Buffer.from([0x05, 0x00]);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const octets = (b: Buffer) => tlv(0x04, b);
const bits = (b: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));
const explicit = (n: number, content: Buffer) => tlv(0xa0 + n, content);

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [40 * parts[0] + parts[1]];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [];
    let v = p;
    do {
      chunk.unshift((v & 0x7f) | (chunk.length ? 0x80 : 0));
      v = Math.floor(v / 128);
    } while (v > 0);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function utcTime(d: Date): Buffer {
  const p = (n: number) => String(n).padStart(2, '0');
  const s = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return tlv(0x17, Buffer.from(s, 'ascii'));
}

export interface SelfSignedCertificate {
  privateKey: KeyObject;
  certPem: string;
  keyPem: string;
}

/** An RSA-2048 key and a self-signed certificate for it, valid from `notBefore` to `notAfter`. */
export function makeSelfSignedCertificate(
  options: { commonName?: string; notBefore?: Date; notAfter?: Date } = {},
): SelfSignedCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const notBefore = options.notBefore ?? new Date(Date.now() - 3600_000);
  const notAfter = options.notAfter ?? new Date(Date.now() + 24 * 3600_000);
  const name = seq(set(seq(oid('2.5.4.3'), utf8(options.commonName ?? 'sns.test.invalid'))));
  const sha256WithRsa = seq(oid('1.2.840.113549.1.1.11'), nul());
  // subjectAltName IP:127.0.0.1 and DNS:localhost, so the same certificate can serve loopback HTTPS.
  const san = seq(oid('2.5.29.17'), octets(seq(tlv(0x87, Buffer.from([127, 0, 0, 1])), tlv(0x82, Buffer.from('localhost')))));
  const basicConstraints = seq(oid('2.5.29.19'), octets(seq(tlv(0x01, Buffer.from([0xff])))));
  const tbs = seq(
    explicit(0, int(Buffer.from([2]))),
    int(randomBytes(12)),
    sha256WithRsa,
    name,
    seq(utcTime(notBefore), utcTime(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(san, basicConstraints)),
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = seq(tbs, sha256WithRsa, bits(signature));
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').trim();
  return {
    privateKey,
    certPem: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

// ---------- a loopback server that counts requests

export interface LoopbackServer {
  /** e.g. http://127.0.0.1:41234 (no trailing slash) */
  origin: string;
  /** Every request's path + query, in arrival order. */
  requests: string[];
  /** Requests whose path starts with `prefix`. */
  count(prefix: string): number;
  close(): Promise<void>;
}

export type Route = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

/** Serves `routes` (first that returns true wins; else 404) and records every request. */
export async function startLoopbackServer(
  routes: Route[] = [],
  tls?: { certPem: string; keyPem: string },
): Promise<LoopbackServer> {
  const requests: string[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    requests.push(req.url ?? '');
    for (const route of routes) if (route(req, res)) return;
    res.writeHead(404).end('not found');
  };
  const server = tls ? https.createServer({ cert: tls.certPem, key: tls.keyPem }, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    count: (prefix) => requests.filter((r) => r.startsWith(prefix)).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------- the signer

export type SignatureVersion = 1 | 2;

export interface EnvelopeOptions {
  topicArn?: string;
  messageId?: string;
  timestamp?: string;
  signatureVersion?: SignatureVersion;
  certUrl?: string;
}

export interface S3RecordSpec {
  /** The real key; encoded the way S3 encodes it in events. */
  key: string;
  bucket?: string;
  eTag?: string;
  sequencer?: string;
  eventName?: string;
}

export const TEST_TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:anomaly-raw-uploads';
export const TEST_BUCKET = 'anomaly-test-bucket';
const CERT_PATH = '/sns-certs/SimpleNotificationService-test.pem';

/** Everything a test needs to speak SNS to /notify. */
export class SnsTestSigner {
  private constructor(
    readonly cert: SelfSignedCertificate,
    readonly server: LoopbackServer,
    /** Trusted prefix to configure (SNS_TRUSTED_CERT_URL_PREFIXES). */
    readonly trustedPrefix: string,
    readonly certUrl: string,
  ) {}

  /** Starts the certificate server. `https: true` serves it over TLS with the same certificate. */
  static async start(options: { https?: boolean; routes?: Route[] } = {}): Promise<SnsTestSigner> {
    const cert = makeSelfSignedCertificate();
    const serveCert: Route = (req, res) => {
      if (req.url !== CERT_PATH) return false;
      res.writeHead(200, { 'content-type': 'application/x-pem-file' }).end(cert.certPem);
      return true;
    };
    const server = await startLoopbackServer([serveCert, ...(options.routes ?? [])], options.https ? cert : undefined);
    return new SnsTestSigner(cert, server, `${server.origin}/sns-certs/`, `${server.origin}${CERT_PATH}`);
  }

  close(): Promise<void> {
    return this.server.close();
  }

  /** How many times the certificate was fetched. */
  get certFetches(): number {
    return this.server.count(CERT_PATH);
  }

  notification(message: string, options: EnvelopeOptions & { subject?: string } = {}): Record<string, string> {
    const topicArn = options.topicArn ?? TEST_TOPIC_ARN;
    const env: Record<string, string> = {
      Type: 'Notification',
      MessageId: options.messageId ?? randomUUID(),
      TopicArn: topicArn,
      ...(options.subject !== undefined ? { Subject: options.subject } : {}),
      Message: message,
      Timestamp: options.timestamp ?? new Date().toISOString(),
      SignatureVersion: String(options.signatureVersion ?? 1),
      Signature: '',
      SigningCertURL: options.certUrl ?? this.certUrl,
      UnsubscribeURL: `https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${topicArn}:${randomUUID()}`,
    };
    return this.sign(env);
  }

  subscriptionConfirmation(
    subscribeUrl: string,
    options: EnvelopeOptions & { type?: 'SubscriptionConfirmation' | 'UnsubscribeConfirmation' } = {},
  ): Record<string, string> {
    const type = options.type ?? 'SubscriptionConfirmation';
    const topicArn = options.topicArn ?? TEST_TOPIC_ARN;
    const env: Record<string, string> = {
      Type: type,
      MessageId: options.messageId ?? randomUUID(),
      Token: randomBytes(64).toString('hex'),
      TopicArn: topicArn,
      Message: `You have chosen to subscribe to the topic ${topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
      SubscribeURL: subscribeUrl,
      Timestamp: options.timestamp ?? new Date().toISOString(),
      SignatureVersion: String(options.signatureVersion ?? 1),
      Signature: '',
      SigningCertURL: options.certUrl ?? this.certUrl,
    };
    return this.sign(env);
  }

  /** (Re)computes Signature over the envelope's fields as SNS does. */
  sign(env: Record<string, string>): Record<string, string> {
    const fields =
      env.Type === 'Notification'
        ? ['Message', 'MessageId', ...('Subject' in env ? ['Subject'] : []), 'Timestamp', 'TopicArn', 'Type']
        : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
    const text = fields.map((f) => `${f}\n${env[f]}\n`).join('');
    const algorithm = env.SignatureVersion === '2' ? 'sha256' : 'sha1';
    env.Signature = sign(algorithm, Buffer.from(text, 'utf8'), this.cert.privateKey).toString('base64');
    return env;
  }
}

/** An S3 event notification Message, keys URL-encoded as S3 does (space as +, UTF-8 bytes as %XX). */
export function s3EventMessage(records: S3RecordSpec[]): string {
  return JSON.stringify({
    Records: records.map((r) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'eu-west-1',
      eventTime: new Date().toISOString(),
      eventName: r.eventName ?? 'ObjectCreated:Put',
      s3: {
        s3SchemaVersion: '1.0',
        bucket: { name: r.bucket ?? TEST_BUCKET, arn: `arn:aws:s3:::${r.bucket ?? TEST_BUCKET}` },
        object: {
          key: encodeS3Key(r.key),
          size: 1234,
          ...(r.eTag !== undefined ? { eTag: r.eTag } : {}),
          ...(r.sequencer !== undefined ? { sequencer: r.sequencer } : {}),
        },
      },
    })),
  });
}

export function s3TestEventMessage(bucket = TEST_BUCKET): string {
  return JSON.stringify({
    Service: 'Amazon S3',
    Event: 's3:TestEvent',
    Time: new Date().toISOString(),
    Bucket: bucket,
    RequestId: randomBytes(8).toString('hex').toUpperCase(),
    HostId: randomBytes(32).toString('base64'),
  });
}

export function encodeS3Key(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}
