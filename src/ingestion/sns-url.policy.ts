// AWS region names: a two-letter area, `gov-` for GovCloud, a compass direction, a small number
// (us-east-1, eu-west-3, ap-southeast-2, us-gov-west-1, ca-central-1). A fixed vocabulary rather than
// `[a-z-]+` so that a forged message cannot make the server resolve invented hostnames at will.
const DIRECTION = '(?:central|(?:north|south)(?:east|west)?|east|west)';
const REGION = `[a-z]{2}-(?:gov-)?${DIRECTION}-\\d{1,2}`;
const CN_REGION = `cn-${DIRECTION}-\\d{1,2}`;

/**
 * SNS's own endpoints: `sns.<region>.amazonaws.com` and, for the China regions only,
 * `sns.cn-<...>.amazonaws.com.cn`. Matched against the whole parsed hostname, anchored at both ends,
 * so that neither `sns.us-east-1.amazonaws.com.evil.com` nor `evilsns.us-east-1.amazonaws.com` passes.
 */
export const SNS_HOST = new RegExp(`^sns\\.(?:(?!cn-)${REGION}\\.amazonaws\\.com|${CN_REGION}\\.amazonaws\\.com\\.cn)$`);

/** How SNS names its signing certificates, e.g. `/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem`. */
export const SNS_CERT_PATH = /^\/SimpleNotificationService-[0-9a-f]+\.pem$/;

/**
 * Decides which URLs the service may fetch on an SNS message's behalf: the signing certificate and
 * the subscription confirmation URL. Only HTTPS on an SNS host, on the default port, without
 * credentials — or a URL under one of the configured trusted prefixes (tests serve a self-made
 * certificate on loopback that way; production configures none).
 */
export class SnsUrlPolicy {
  private readonly trusted: URL[];

  constructor(trustedPrefixes: readonly string[] = []) {
    this.trusted = trustedPrefixes.map((p) => {
      const url = new URL(p);
      if (!url.pathname.endsWith('/')) url.pathname += '/';
      return url;
    });
  }

  get hasTrustedPrefixes(): boolean {
    return this.trusted.length > 0;
  }

  /**
   * Where a signing certificate may come from: no query; on an SNS host, only a path named the way
   * SNS names its certificates (anything else there is not one, and fetching it costs a request).
   * Trusted prefixes (tests) are taken whole.
   */
  isAllowedCertUrl(candidate: string): boolean {
    const url = parse(candidate);
    if (!url || url.search || url.hash) return false;
    if (this.isTrusted(url)) return true;
    return isSnsHttpsUrl(url) && SNS_CERT_PATH.test(url.pathname);
  }

  /** Where a subscription may be confirmed. */
  isAllowedSubscribeUrl(candidate: string): boolean {
    const url = parse(candidate);
    if (!url || url.hash) return false;
    return this.isTrusted(url) || isSnsHttpsUrl(url);
  }

  private isTrusted(url: URL): boolean {
    return this.trusted.some((t) => url.origin === t.origin && url.pathname.startsWith(t.pathname));
  }
}

function parse(candidate: string): URL | null {
  if (typeof candidate !== 'string' || candidate.length > 2048) return null;
  try {
    const url = new URL(candidate);
    // A URL with credentials is never SNS's and could hide the real host from a casual reader.
    if (url.username || url.password) return null;
    return url;
  } catch {
    return null;
  }
}

function isSnsHttpsUrl(url: URL): boolean {
  return url.protocol === 'https:' && url.port === '' && SNS_HOST.test(url.hostname);
}
