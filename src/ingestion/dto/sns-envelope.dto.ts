import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SNS_MESSAGE_TYPES, SnsMessageType } from '../sns-message';

/**
 * The body SNS posts to an HTTP(S) subscription (sent as `text/plain; charset=UTF-8`). Documents
 * the schema only: the controller reads the body itself, because stripping or converting any field
 * would break the signature.
 */
export class SnsEnvelopeDto {
  @ApiProperty({ enum: SNS_MESSAGE_TYPES, description: 'Must equal the x-amz-sns-message-type header' })
  Type: SnsMessageType;

  @ApiProperty({ example: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324' })
  MessageId: string;

  @ApiProperty({ example: 'arn:aws:sns:eu-west-1:123456789012:anomaly-raw-uploads' })
  TopicArn: string;

  @ApiPropertyOptional({ description: 'Notification only, when the publisher set one' })
  Subject?: string;

  @ApiProperty({
    description:
      'Notification: an S3 event as JSON (Records[] with eventName ObjectCreated:*, s3.bucket.name, ' +
      's3.object.key URL-encoded, eTag, sequencer), or s3:TestEvent. Confirmations: a human-readable text.',
    example: '{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"my-bucket"},"object":{"key":"raw/batch+1.csv","eTag":"0123456789abcdef0123456789abcdef","sequencer":"0062E99A88DC407460"}}}]}',
  })
  Message: string;

  @ApiProperty({ example: '2026-11-26T08:00:00.000Z' })
  Timestamp: string;

  @ApiProperty({ enum: ['1', '2'], description: '1: SHA1withRSA, 2: SHA256withRSA' })
  SignatureVersion: '1' | '2';

  @ApiProperty({ description: 'Base64 RSA signature over the documented string to sign' })
  Signature: string;

  @ApiProperty({ example: 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem' })
  SigningCertURL: string;

  @ApiPropertyOptional({ description: 'SubscriptionConfirmation and UnsubscribeConfirmation only' })
  SubscribeURL?: string;

  @ApiPropertyOptional({ description: 'SubscriptionConfirmation and UnsubscribeConfirmation only' })
  Token?: string;

  @ApiPropertyOptional({ description: 'Notification only' })
  UnsubscribeURL?: string;
}
