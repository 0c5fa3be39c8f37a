import { SnsMessageError } from './ingestion.errors';

export const SNS_MESSAGE_TYPES = ['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'] as const;
export type SnsMessageType = (typeof SNS_MESSAGE_TYPES)[number];

interface SnsEnvelopeBase {
  Type: SnsMessageType;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: '1' | '2';
  Signature: string;
  SigningCertURL: string;
}

export interface SnsNotification extends SnsEnvelopeBase {
  Type: 'Notification';
  Subject?: string;
  UnsubscribeURL?: string;
}

export interface SnsSubscriptionMessage extends SnsEnvelopeBase {
  Type: 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';
  SubscribeURL: string;
  Token: string;
}

/** An SNS HTTP(S) delivery, checked for shape only; its signature is the verifier's business. */
export type SnsMessage = SnsNotification | SnsSubscriptionMessage;

const REQUIRED = ['MessageId', 'TopicArn', 'Message', 'Timestamp', 'SignatureVersion', 'Signature', 'SigningCertURL'] as const;
const REQUIRED_FOR_SUBSCRIPTION = ['SubscribeURL', 'Token'] as const;
const OPTIONAL_FOR_NOTIFICATION = ['Subject', 'UnsubscribeURL'] as const;

const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const MAX_ID_LENGTH = 256;

export function isSnsMessageType(value: unknown): value is SnsMessageType {
  return typeof value === 'string' && (SNS_MESSAGE_TYPES as readonly string[]).includes(value);
}

/**
 * Reads an SNS envelope from a request body: a string (SNS posts JSON as text/plain) or an object
 * already parsed by the JSON body parser. Throws SnsMessageError naming the first problem found.
 */
export function parseSnsMessage(body: unknown): SnsMessage {
  let raw: unknown = body;
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    try {
      raw = JSON.parse(body.toString());
    } catch {
      throw new SnsMessageError('body is not JSON');
    }
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SnsMessageError('body is not a JSON object');
  }
  const obj = raw as Record<string, unknown>;

  const type = obj.Type;
  if (!isSnsMessageType(type)) {
    throw new SnsMessageError(`Type must be one of ${SNS_MESSAGE_TYPES.join(', ')}`);
  }
  const fields = type === 'Notification' ? REQUIRED : [...REQUIRED, ...REQUIRED_FOR_SUBSCRIPTION];
  for (const field of fields) requireString(obj, field);
  if (type === 'Notification') {
    for (const field of OPTIONAL_FOR_NOTIFICATION) {
      // Lambda-style envelopes carry "Subject": null; SNS over HTTP leaves it out. Both mean "none".
      if (obj[field] !== undefined && obj[field] !== null && typeof obj[field] !== 'string') {
        throw new SnsMessageError(`${field} must be a string`);
      }
    }
  }

  const msg = obj as unknown as SnsMessage;
  if (msg.SignatureVersion !== '1' && msg.SignatureVersion !== '2') {
    throw new SnsMessageError('SignatureVersion must be "1" or "2"');
  }
  if (msg.MessageId.length > MAX_ID_LENGTH) throw new SnsMessageError('MessageId is too long');
  if (!TOPIC_ARN.test(msg.TopicArn)) throw new SnsMessageError('TopicArn is not an SNS topic ARN');
  if (!ISO_TIMESTAMP.test(msg.Timestamp) || Number.isNaN(Date.parse(msg.Timestamp))) {
    throw new SnsMessageError('Timestamp is not an ISO-8601 UTC time');
  }
  if (!BASE64.test(msg.Signature)) throw new SnsMessageError('Signature is not base64');

  const out: Record<string, string> = {};
  // Keep only the fields we know, as strings: nothing else in the body can influence what we do.
  for (const field of ['Type', ...fields, ...(type === 'Notification' ? OPTIONAL_FOR_NOTIFICATION : [])]) {
    if (typeof obj[field] === 'string') out[field] = obj[field] as string;
  }
  return out as unknown as SnsMessage;
}

function requireString(obj: Record<string, unknown>, field: string): void {
  const value = obj[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw new SnsMessageError(`${field} is missing or not a string`);
  }
}

/**
 * The string SNS signs: "Name\nValue\n" for each field of the documented list for the message type,
 * in that (alphabetical) order; Subject only when the notification has one.
 */
export function stringToSign(msg: SnsMessage): string {
  const fields =
    msg.Type === 'Notification'
      ? ['Message', 'MessageId', ...(msg.Subject !== undefined ? ['Subject'] : []), 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  let out = '';
  for (const field of fields) out += `${field}\n${(msg as unknown as Record<string, string>)[field]}\n`;
  return out;
}
