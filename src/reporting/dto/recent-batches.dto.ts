import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { MAX_SERIES_FILES } from '../reporting-index.service';
import { BatchSummaryDto } from './reporting.dto';

export class RecentBatchesQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_SERIES_FILES, default: 20, description: 'How many of the newest batches' })
  @Type(() => Number)
  @IsInt({ message: `files must be an integer from 1 to ${MAX_SERIES_FILES}` })
  @Min(1, { message: `files must be an integer from 1 to ${MAX_SERIES_FILES}` })
  @Max(MAX_SERIES_FILES, { message: `files must be an integer from 1 to ${MAX_SERIES_FILES}` })
  files: number = 20;
}

export class ScoredSeriesDto {
  @ApiProperty({ example: ['temperature', 'humidity'] }) channels: string[];
  @ApiProperty({ example: ['2026-02-24T00:10:51.000'], type: [String], nullable: true }) timestamps: (string | null)[];
  @ApiProperty({ type: 'object', additionalProperties: { type: 'array', items: { type: 'number', nullable: true } }, example: { temperature: [22.58] } })
  values: Record<string, (number | null)[]>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'array', items: { type: 'boolean' } }, example: { temperature: [false] } })
  zscoreFlags: Record<string, boolean[]>;
  @ApiProperty({ type: [Boolean], example: [false] }) anomaly: boolean[];
  @ApiProperty({ type: [String], example: [''] }) reasons: string[];
  @ApiProperty({ description: 'True when the file had more rows than the 1,000 returned' }) truncated: boolean;
}

export class RecentBatchDto {
  @ApiProperty({ type: BatchSummaryDto }) summary: BatchSummaryDto;
  @ApiProperty({ type: ScoredSeriesDto }) series: ScoredSeriesDto;
}
