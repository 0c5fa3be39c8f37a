import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SNS_MESSAGE_TYPES, SnsMessageType } from '../sns-message';

export const RECORD_OUTCOMES = ['queued', 'duplicate', 'ignored'] as const;
export type RecordOutcome = (typeof RECORD_OUTCOMES)[number];

export const NOTIFY_STATUSES = ['accepted', 'duplicate', 'ignored', 'confirmed', 'unsubscribed'] as const;
export type NotifyStatus = (typeof NOTIFY_STATUSES)[number];

export class NotifyRecordResultDto {
  @ApiProperty({ example: 'raw/batch 1.csv', description: 'The decoded object key' })
  key: string;

  @ApiProperty({
    enum: RECORD_OUTCOMES,
    description:
      'queued: handed to processing; duplicate: this key and eTag were already seen or are already queued; ' +
      'ignored: not an ObjectCreated event, another bucket, outside the raw prefix/suffix, or already processed',
  })
  outcome: RecordOutcome;

  @ApiPropertyOptional({ example: 'key does not end with .csv' })
  reason?: string;
}

export class NotifyResultDto {
  @ApiProperty({ enum: SNS_MESSAGE_TYPES })
  type: SnsMessageType;

  @ApiProperty({ example: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324' })
  messageId: string;

  @ApiProperty({
    enum: NOTIFY_STATUSES,
    description:
      'accepted: the S3 records were handled (see records); duplicate: this MessageId was already handled; ' +
      'ignored: s3:TestEvent or a message that is not an S3 event; confirmed: the subscription was confirmed; ' +
      'unsubscribed: an UnsubscribeConfirmation was acknowledged',
  })
  status: NotifyStatus;

  @ApiPropertyOptional({ example: 's3:TestEvent' })
  reason?: string;

  @ApiPropertyOptional({ type: [NotifyRecordResultDto] })
  records?: NotifyRecordResultDto[];
}

export class NotifyErrorDto {
  @ApiProperty({ example: 403 })
  statusCode: number;

  @ApiProperty({ example: 'Forbidden' })
  error: string;

  @ApiProperty({ example: 'signature does not match' })
  message: string;
}
