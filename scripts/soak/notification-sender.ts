import { HttpClient } from './http-client';

/** One delivery SNS would make: a signed envelope for one S3 object. */
export interface PlannedNotification {
  key: string;
  messageId: string;
  /** The envelope, as the JSON text SNS posts (text/plain). */
  body: string;
  /** 'first', or why it is a second delivery of the same object. */
  kind: 'first' | 'sns-redelivery' | 's3-duplicate-event';
}

export interface DeliveryRecord {
  key: string;
  kind: PlannedNotification['kind'];
  /** When the first attempt was posted (ms since epoch). */
  firstSentAt: number;
  /** When the attempt that got a 200 was answered; undefined when it never got one. */
  deliveredAt?: number;
  /** Response time of the successful attempt, ms. */
  responseMs?: number;
  attempts: number;
  /** The service's answer: `accepted`, `duplicate`... or the last error. */
  outcome: string;
  /** Per record outcome of an accepted message (`queued`, `duplicate`...). */
  recordOutcome?: string;
}

export interface SenderOptions {
  url: string;
  /** Notifications per second; first attempts are paced, retries go out on their own schedule. */
  rate: number;
  /** Stop retrying a delivery after this time (ms since epoch). */
  giveUpAt: number;
  /** Called after the n-th first attempt was posted (0-based), e.g. to inject faults. */
  onSent?: (index: number) => void;
}

/**
 * Posts notifications like SNS's HTTP delivery: paced at `rate`, each retried on a refused connection,
 * a timeout or a 5xx (SNS's default policy retries for about an hour; here backoff 0.25 s doubling to
 * 2 s until `giveUpAt`). A 4xx is final, as for SNS.
 */
export class NotificationSender {
  readonly records: DeliveryRecord[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly http: HttpClient,
    private readonly options: SenderOptions,
  ) {}

  /** Resolves when every notification has been delivered or given up on. */
  async sendAll(plan: readonly PlannedNotification[]): Promise<DeliveryRecord[]> {
    const started = Date.now();
    const interval = 1000 / this.options.rate;
    for (let i = 0; i < plan.length; i++) {
      const due = started + i * interval;
      const wait = due - Date.now();
      if (wait > 1) await sleep(wait);
      const delivery = this.deliver(plan[i]);
      this.inFlight.add(delivery);
      void delivery.finally(() => this.inFlight.delete(delivery));
      this.options.onSent?.(i);
    }
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    return this.records;
  }

  private async deliver(n: PlannedNotification): Promise<void> {
    const record: DeliveryRecord = { key: n.key, kind: n.kind, firstSentAt: Date.now(), attempts: 0, outcome: 'not sent' };
    this.records.push(record);
    let backoff = 250;
    for (;;) {
      record.attempts++;
      const sent = Date.now();
      let retry: boolean;
      try {
        const answer = await this.http.request('POST', this.options.url, n.body, {
          'content-type': 'text/plain; charset=UTF-8',
          'x-amz-sns-message-type': 'Notification',
          'x-amz-sns-message-id': n.messageId,
        });
        if (answer.status === 200) {
          record.deliveredAt = Date.now();
          record.responseMs = record.deliveredAt - sent;
          const result = JSON.parse(answer.body) as { status: string; records?: { outcome: string }[] };
          record.outcome = result.status;
          record.recordOutcome = result.records?.[0]?.outcome;
          return;
        }
        record.outcome = `HTTP ${answer.status}: ${answer.body.slice(0, 200)}`;
        retry = answer.status >= 500;
      } catch (err) {
        record.outcome = (err as Error).message;
        retry = true;
      }
      if (!retry || Date.now() + backoff > this.options.giveUpAt) return;
      await sleep(backoff);
      backoff = Math.min(2000, backoff * 2);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
