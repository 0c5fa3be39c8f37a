import { KeyObject, verify } from 'node:crypto';
import { SnsVerificationError } from './ingestion.errors';
import { SnsMessage, stringToSign } from './sns-message';
import { SigningCertCache } from './signing-cert.cache';
import { SnsUrlPolicy } from './sns-url.policy';

export interface SnsSignatureVerifierOptions {
  policy: SnsUrlPolicy;
  certs: SigningCertCache;
  /**
   * Older messages are refused. SNS stops retrying an HTTP delivery after at most an hour, so a
   * legitimate message is never much older; an older one is a replay.
   */
  maxAgeMs?: number;
  /** Tolerated clock difference for messages dated in the future. */
  maxClockSkewMs?: number;
  now?: () => number;
}

const ALGORITHMS = { '1': 'sha1', '2': 'sha256' } as const;

/**
 * Checks an SNS message as SNS documents it: the signing certificate URL must be SNS's own (HTTPS,
 * SNS host) or explicitly trusted, the certificate is fetched from there (cached), and the signature
 * over the documented string to sign must verify with its key — SHA1withRSA for SignatureVersion 1,
 * SHA256withRSA for 2. Throws SnsVerificationError on any failure; IngestionUnavailableError when the
 * certificate cannot be fetched right now.
 *
 * Written on node:crypto rather than taken from npm: `sns-validator` (AWS's, 0.3.5) keeps an
 * unbounded module-wide certificate cache and fetches it with no deadline; `sns-payload-validator`
 * (2.1.0, handles version 2) hard-codes the certificate URL pattern, so tests could not trust a
 * loopback certificate, and fetches with neither a deadline nor a status check. Neither is a
 * dependency of this project.
 */
export class SnsSignatureVerifier {
  private readonly maxAgeMs: number;
  private readonly maxClockSkewMs: number;
  private readonly now: () => number;

  constructor(private readonly options: SnsSignatureVerifierOptions) {
    this.maxAgeMs = options.maxAgeMs ?? 65 * 60 * 1000;
    this.maxClockSkewMs = options.maxClockSkewMs ?? 5 * 60 * 1000;
    this.now = options.now ?? Date.now;
  }

  /** `source`: the sender's address, so that one sender cannot take every certificate fetch. */
  async verify(msg: SnsMessage, source?: string): Promise<void> {
    const algorithm = ALGORITHMS[msg.SignatureVersion];
    if (!algorithm) throw new SnsVerificationError(`unsupported SignatureVersion ${JSON.stringify(msg.SignatureVersion)}`);
    if (!this.options.policy.isAllowedCertUrl(msg.SigningCertURL)) {
      throw new SnsVerificationError(`SigningCertURL ${JSON.stringify(msg.SigningCertURL)} is not an SNS certificate URL`);
    }
    const sent = Date.parse(msg.Timestamp);
    const now = this.now();
    if (!(sent >= now - this.maxAgeMs)) throw new SnsVerificationError(`message is too old (Timestamp ${msg.Timestamp})`);
    if (sent > now + this.maxClockSkewMs) throw new SnsVerificationError(`message is dated in the future (Timestamp ${msg.Timestamp})`);

    const key = await this.options.certs.publicKey(msg.SigningCertURL, source);
    if (!checkSignature(algorithm, msg, key)) throw new SnsVerificationError('signature does not match');
  }
}

function checkSignature(algorithm: string, msg: SnsMessage, key: KeyObject): boolean {
  try {
    return verify(algorithm, Buffer.from(stringToSign(msg), 'utf8'), key, Buffer.from(msg.Signature, 'base64'));
  } catch {
    return false;
  }
}
