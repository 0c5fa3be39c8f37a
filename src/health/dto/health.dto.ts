import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class HealthDto {
  @ApiProperty({ enum: ['ok', 'unavailable'], example: 'ok' })
  status: 'ok' | 'unavailable';

  @ApiProperty({ enum: ['ok', 'unavailable'], example: 'ok', description: 'Whether the object store answered' })
  storage: 'ok' | 'unavailable';

  @ApiPropertyOptional({ example: 's3://my-anomaly-bucket', description: 'Where objects are stored: s3://bucket or file://dir (only with a credential, where one is required)' })
  bucket?: string;

  @ApiProperty({ example: '2026-11-26T08:00:00.000Z' })
  timestamp: string;

  @ApiPropertyOptional({ example: 'Storage ping failed for "my-bucket": TimeoutError: ...' })
  reason?: string;
}
