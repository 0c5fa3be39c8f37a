import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { IntQueryParam } from './int-query-param';

export const MAX_ENTITIES_PAGE = 1000;

export class BaselineCurrentQuery {
  @IntQueryParam('entities_limit', 1, MAX_ENTITIES_PAGE, 100, 'Entities per page (ENTITY_COLUMN), in name order')
  entities_limit: number = 100;

  @ApiPropertyOptional({ description: 'The page after this entity name: the `next_entities_after` of the previous page', example: 'sensor-0099' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  entities_after?: string;
}

export class SeasonNowDto {
  @ApiProperty({ example: 'Europe/Paris', description: 'TIMEZONE of the slots' })
  timezone: string;
  @ApiProperty({ example: 13, description: 'The current slot: hour of the day (0-23), or of the week (0-167, Monday 00:00 first)' })
  slot: number;
  @ApiProperty({ example: 412.5, description: 'The expected value now, 4 decimals' })
  expected: number;
  @ApiProperty({ example: [351.2, 473.8], description: 'The band now: the values within Z_THRESHOLD of the hour\'s own spread, 4 decimals', type: [Number] })
  band: [number, number];
}

export class ChannelBaselineDto {
  @ApiProperty({ example: 1200, description: 'Observations folded in (weighted when BASELINE_HALF_LIFE is set)' })
  observations: number;
  @ApiProperty({ example: 22.0153, description: '4 decimals' })
  mean: number;
  @ApiProperty({ example: 1.4987, description: 'Population standard deviation, 4 decimals' })
  std: number;
  @ApiProperty({ example: true, description: 'observations >= BASELINE_MIN_COUNT: z-score flags are raised only then' })
  baseline_mature: boolean;
  @ApiProperty({
    enum: ['daily', 'weekly'],
    nullable: true,
    example: 'daily',
    description: 'The period the channel is judged against (SEASONALITY), null when none. For a seasonal channel, mean and std are of its deseasonalised values.',
  })
  seasonal: 'daily' | 'weekly' | null;
  @ApiPropertyOptional({ type: SeasonNowDto, description: 'Seasonal channels only: what is expected in the current hour of the day (week), local time in TIMEZONE' })
  season?: SeasonNowDto;
}


export class BaselineCurrentDto {
  @ApiProperty({ example: '2026-02-24T00:11:02.118Z', nullable: true, description: 'null before the first batch' })
  last_updated: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/ChannelBaselineDto' },
    example: { temperature: { observations: 1200, mean: 22.0153, std: 1.4987, baseline_mature: true, seasonal: null } },
  })
  channels: Record<string, ChannelBaselineDto>;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'object', additionalProperties: { $ref: '#/components/schemas/ChannelBaselineDto' } },
    description: 'Per entity (ENTITY_COLUMN) and channel, one page of entities (entities_limit, entities_after); absent when no entity column is configured',
    example: { 'sensor-7': { temperature: { observations: 300, mean: 21.8, std: 1.2, baseline_mature: true, seasonal: null } } },
  })
  entities?: Record<string, Record<string, ChannelBaselineDto>>;

  @ApiPropertyOptional({ example: 2500, description: 'Entities learned in all (ENTITY_COLUMN mode only)' })
  entities_total?: number;

  @ApiPropertyOptional({ example: 'sensor-0099', nullable: true, description: 'Pass as entities_after for the next page; null on the last page' })
  next_entities_after?: string | null;

  @ApiProperty({ example: 3, description: 'Z_THRESHOLD: the reference rule of the <channel>_zscore_flag columns' })
  z_threshold: number;

  @ApiProperty({ example: 30, description: 'BASELINE_MIN_COUNT' })
  min_count: number;
}
