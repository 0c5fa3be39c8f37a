import { Logger } from '@nestjs/common';
import { httpGet, HttpGetResult } from './http-get';
import { IngestionUnavailableError, SnsVerificationError } from './ingestion.errors';
import { SnsSubscriptionMessage } from './sns-message';
import { SnsUrlPolicy } from './sns-url.policy';

export interface SubscriptionConfirmerOptions {
  timeoutMs?: number;
  ca?: string[];
  get?: (url: string) => Promise<HttpGetResult>;
}

/**
 * Confirms an SNS subscription by visiting its SubscribeURL — only once the message verified, and
 * only if the URL is SNS's own: /notify must never make the server fetch an arbitrary URL.
 */
export class SubscriptionConfirmer {
  private readonly logger = new Logger(SubscriptionConfirmer.name);
  private readonly get: (url: string) => Promise<HttpGetResult>;

  constructor(
    private readonly policy: SnsUrlPolicy,
    options: SubscriptionConfirmerOptions = {},
  ) {
    const timeoutMs = options.timeoutMs ?? 10_000;
    this.get = options.get ?? ((url) => httpGet(url, { timeoutMs, maxBytes: 64 * 1024, ca: options.ca }));
  }

  /** Throws SnsVerificationError when the URL is not allowed (nothing fetched). */
  assertAllowed(msg: SnsSubscriptionMessage): void {
    if (!this.policy.isAllowedSubscribeUrl(msg.SubscribeURL)) {
      throw new SnsVerificationError(`SubscribeURL ${JSON.stringify(msg.SubscribeURL)} is not an SNS URL`);
    }
  }

  async confirm(msg: SnsSubscriptionMessage): Promise<void> {
    this.assertAllowed(msg);
    let res: HttpGetResult;
    try {
      res = await this.get(msg.SubscribeURL);
    } catch (err) {
      throw new IngestionUnavailableError(`confirming the subscription to ${msg.TopicArn} failed: ${(err as Error).message}`);
    }
    if (res.status !== 200) {
      throw new IngestionUnavailableError(`confirming the subscription to ${msg.TopicArn} failed: HTTP ${res.status}`);
    }
    this.logger.log(`Confirmed the SNS subscription to ${msg.TopicArn}`);
  }
}
