import { Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { assertValidKey } from '../storage/object-store';
import { BatchSink, EnqueueOutcome } from './batch-sink';
import { NotifyRecordResultDto, NotifyResultDto } from './dto/notify-result.dto';
import { IngestionUnavailableError, SnsMessageError, SnsVerificationError } from './ingestion.errors';
import { RecentSet } from './recent-set';
import { parseS3Event, S3EventRecord } from './s3-event';
import { parseSnsMessage, SnsMessage, SnsNotification, SnsSubscriptionMessage } from './sns-message';
import { SnsSignatureVerifier } from './sns-signature.verifier';
import { SubscriptionConfirmer } from './subscription.confirmer';

/** Headers SNS sends with every delivery; when present they must agree with the body. */
export interface SnsHeaders {
  'x-amz-sns-message-type'?: string;
  'x-amz-sns-message-id'?: string;
  'x-amz-sns-topic-arn'?: string;
}

// SNS retries a delivery for at most an hour; S3 may repeat an event later, but rarely.
const MESSAGE_ID_WINDOW = { max: 100_000, ttlMs: 2 * 3600 * 1000 };
const OBJECT_WINDOW = { max: 100_000, ttlMs: 24 * 3600 * 1000 };

/**
 * What /notify does with a delivery: read it, check it against the headers, the topic allowlist and
 * its signature, then confirm a subscription or hand the S3 records to the batch sink, each
 * (MessageId) and each (key, eTag or sequencer) once.
 */
@Injectable()
export class NotifyService implements OnModuleInit {
  private readonly logger = new Logger(NotifyService.name);
  private readonly messageIds = new RecentSet(MESSAGE_ID_WINDOW.max, MESSAGE_ID_WINDOW.ttlMs);
  private readonly objects = new RecentSet(OBJECT_WINDOW.max, OBJECT_WINDOW.ttlMs);
  private readonly topics: Set<string>;

  constructor(
    private readonly config: AppConfig,
    private readonly verifier: SnsSignatureVerifier,
    private readonly confirmer: SubscriptionConfirmer,
    private readonly sink: BatchSink,
    @Optional() private readonly metrics?: MetricsService,
  ) {
    this.topics = new Set(config.ingestion.topicArns);
  }

  onModuleInit(): void {
    const { verifySignatures, trustedCertUrlPrefixes, topicArns } = this.config.ingestion;
    if (!verifySignatures) {
      this.logger.warn(
        'SNS_VERIFY_SIGNATURES=false: /notify accepts unsigned messages from anyone. Use only for local experiments.',
      );
    }
    if (trustedCertUrlPrefixes.length > 0) {
      this.logger.warn(`Trusting SNS signing certificates from ${trustedCertUrlPrefixes.join(', ')} (meant for tests only)`);
    }
    if (topicArns.length === 0) this.logger.log('SNS_TOPIC_ARNS is empty: messages from any topic are accepted');
  }

  /** Handles one delivery; throws SnsMessageError (400), SnsVerificationError (403) or IngestionUnavailableError (503). */
  async handle(body: unknown, headers: SnsHeaders, source?: string): Promise<NotifyResultDto> {
    const seen: { type?: string } = {};
    try {
      const result = await this.process(body, headers, seen, source);
      this.metrics?.notifications.inc({ type: result.type, outcome: result.status });
      return result;
    } catch (err) {
      const outcome =
        err instanceof SnsVerificationError ? 'refused' : err instanceof IngestionUnavailableError ? 'unavailable' : 'malformed';
      this.metrics?.notifications.inc({ type: seen.type ?? 'unknown', outcome });
      throw err;
    }
  }

  private async process(body: unknown, headers: SnsHeaders, seen: { type?: string }, source?: string): Promise<NotifyResultDto> {
    if (body === undefined || body === null || (typeof body === 'object' && Object.keys(body).length === 0)) {
      throw new SnsMessageError('expected an SNS message as JSON, sent as text/plain or application/json');
    }
    const msg = parseSnsMessage(body);
    seen.type = msg.Type;
    this.checkHeaders(msg, headers);
    if (this.topics.size > 0 && !this.topics.has(msg.TopicArn)) {
      throw new SnsVerificationError(`topic ${msg.TopicArn} is not in SNS_TOPIC_ARNS`);
    }
    if (this.config.ingestion.verifySignatures) await this.verifier.verify(msg, source);

    switch (msg.Type) {
      case 'Notification':
        return this.onNotification(msg);
      case 'SubscriptionConfirmation':
        return this.onSubscriptionConfirmation(msg);
      case 'UnsubscribeConfirmation':
        return this.onUnsubscribeConfirmation(msg);
    }
  }

  private checkHeaders(msg: SnsMessage, headers: SnsHeaders): void {
    const type = headers['x-amz-sns-message-type'];
    if (type === undefined) throw new SnsMessageError('x-amz-sns-message-type header is missing');
    if (type !== msg.Type) {
      throw new SnsMessageError(`x-amz-sns-message-type header (${type}) does not match the body's Type (${msg.Type})`);
    }
    const id = headers['x-amz-sns-message-id'];
    if (id !== undefined && id !== msg.MessageId) throw new SnsMessageError('x-amz-sns-message-id header does not match MessageId');
    const topic = headers['x-amz-sns-topic-arn'];
    if (topic !== undefined && topic !== msg.TopicArn) throw new SnsMessageError('x-amz-sns-topic-arn header does not match TopicArn');
  }

  private async onSubscriptionConfirmation(msg: SnsSubscriptionMessage): Promise<NotifyResultDto> {
    await this.confirmer.confirm(msg);
    return { type: msg.Type, messageId: msg.MessageId, status: 'confirmed' };
  }

  private onUnsubscribeConfirmation(msg: SnsSubscriptionMessage): NotifyResultDto {
    // Not re-subscribing on our own: an unsubscribe is an operator's decision.
    this.logger.warn(`SNS says this endpoint was unsubscribed from ${msg.TopicArn}`);
    return { type: msg.Type, messageId: msg.MessageId, status: 'unsubscribed' };
  }

  /**
   * Everything from the MessageId check to the last enqueue runs synchronously, so two concurrent
   * deliveries of one message cannot both pass the check.
   */
  private onNotification(msg: SnsNotification): NotifyResultDto {
    const base = { type: msg.Type, messageId: msg.MessageId };
    if (this.messageIds.has(msg.MessageId)) {
      this.logger.debug(`SNS message ${msg.MessageId} already handled`);
      return { ...base, status: 'duplicate' };
    }
    const event = parseS3Event(msg.Message);
    if (event.kind === 'test') {
      this.messageIds.add(msg.MessageId);
      this.logger.log(`S3 test event from ${msg.TopicArn}: notifications reach this endpoint`);
      return { ...base, status: 'ignored', reason: 's3:TestEvent' };
    }
    if (event.kind === 'other') {
      this.messageIds.add(msg.MessageId);
      this.logger.warn(`SNS message ${msg.MessageId} from ${msg.TopicArn} ignored: ${event.reason}`);
      return { ...base, status: 'ignored', reason: `not an S3 event: ${event.reason}` };
    }

    const records: NotifyRecordResultDto[] = [];
    for (const bad of event.undecodable) {
      this.logger.warn(`S3 record ignored: key ${JSON.stringify(bad.encodedKey)} cannot be decoded (${bad.error})`);
      records.push({ key: bad.encodedKey, outcome: 'ignored', reason: 'key cannot be URL-decoded' });
    }
    for (const record of event.records) records.push(this.onRecord(record));
    this.messageIds.add(msg.MessageId);
    return { ...base, status: 'accepted', records };
  }

  private onRecord(record: S3EventRecord): NotifyRecordResultDto {
    const { key } = record;
    const reason = this.whyIgnored(record);
    if (reason) {
      this.logger.log(`S3 record for ${JSON.stringify(key)} ignored: ${reason}`);
      return { key, outcome: 'ignored', reason };
    }
    const identity = record.etag ? `${key}\0etag:${record.etag}` : record.sequencer ? `${key}\0seq:${record.sequencer}` : undefined;
    if (identity && !this.objects.add(identity)) {
      this.logger.debug(`S3 record for ${JSON.stringify(key)} already handled`);
      return { key, outcome: 'duplicate' };
    }
    let outcome: EnqueueOutcome;
    try {
      outcome = this.sink.enqueue({ key, etag: record.etag, sequencer: record.sequencer, source: 'sns' });
    } catch (err) {
      // Forget this object so SNS's redelivery is not mistaken for a duplicate; the MessageId is not
      // recorded either (the caller never gets that far).
      if (identity) this.objects.delete(identity);
      throw new IngestionUnavailableError(`processing cannot take ${JSON.stringify(key)} now: ${(err as Error).message}`);
    }
    this.logger.debug(`S3 record for ${JSON.stringify(key)}: ${outcome}`);
    return { key, outcome };
  }

  private whyIgnored(record: S3EventRecord): string | undefined {
    const { rawPrefix, rawSuffix } = this.config.ingestion;
    const bucket = this.config.storage.bucket;
    if (!record.eventName.startsWith('ObjectCreated:')) return `event ${record.eventName || '(none)'} is not ObjectCreated`;
    // In local mode there is no bucket name to compare with: the data directory stands for whichever
    // bucket the (verified) message names.
    if (bucket && record.bucket !== bucket) return `bucket ${record.bucket} is not ${bucket}`;
    if (!record.key.startsWith(rawPrefix)) return `key is outside ${rawPrefix}`;
    // Case-insensitive like processing's catch-up scan, so both agree on what a batch is.
    if (!record.key.toLowerCase().endsWith(rawSuffix.toLowerCase())) return `key does not end with ${rawSuffix}`;
    if (record.key.length <= rawPrefix.length + rawSuffix.length) return 'key has no batch name';
    try {
      assertValidKey(record.key);
    } catch (err) {
      return (err as Error).message;
    }
    return undefined;
  }
}
