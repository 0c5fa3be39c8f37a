/**
 * SNS's own endpoints: `sns.<region>.amazonaws.com` and, in China, `sns.<region>.amazonaws.com.cn`.
 * Matched against the whole parsed hostname, anchored at both ends, so that neither
 * `sns.us-east-1.amazonaws.com.evil.com` nor `evilsns.us-east-1.amazonaws.com` passes.
 */
export const SNS_HOST = /^sns\.[a-z]{2}(?:-[a-z]+)+-\d{1,2}\.amazonaws\.com(?:\.cn)?$/;

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

  /** Where a signing certificate may come from: also requires a `.pem` path and no query. */
  isAllowedCertUrl(candidate: string): boolean {
    const url = parse(candidate);
    if (!url || url.search || url.hash) return false;
    if (this.isTrusted(url)) return true;
    return isSnsHttpsUrl(url) && url.pathname.endsWith('.pem');
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
