import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class ChannelBaselineDto {
  @ApiProperty({ example: 1200, description: 'Observations folded in (weighted when BASELINE_HALF_LIFE is set)' })
  observations: number;
  @ApiProperty({ example: 22.0153, description: '4 decimals' })
  mean: number;
  @ApiProperty({ example: 1.4987, description: 'Population standard deviation, 4 decimals' })
  std: number;
  @ApiProperty({ example: true, description: 'observations >= BASELINE_MIN_COUNT: z-score flags are raised only then' })
  baseline_mature: boolean;
}

export class BaselineCurrentDto {
  @ApiProperty({ example: '2026-02-24T00:11:02.118Z', nullable: true, description: 'null before the first batch' })
  last_updated: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/ChannelBaselineDto' },
    example: { temperature: { observations: 1200, mean: 22.0153, std: 1.4987, baseline_mature: true } },
  })
  channels: Record<string, ChannelBaselineDto>;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'object', additionalProperties: { $ref: '#/components/schemas/ChannelBaselineDto' } },
    description: 'Per entity (ENTITY_COLUMN) and channel; absent when no entity column is configured',
    example: { 'sensor-7': { temperature: { observations: 300, mean: 21.8, std: 1.2, baseline_mature: true } } },
  })
  entities?: Record<string, Record<string, ChannelBaselineDto>>;

  @ApiProperty({ example: 3, description: 'Z_THRESHOLD: the reference rule of the <channel>_zscore_flag columns' })
  z_threshold: number;

  @ApiProperty({ example: 30, description: 'BASELINE_MIN_COUNT' })
  min_count: number;
}
