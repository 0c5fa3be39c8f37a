import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, IsOptional, IsString, MaxLength, Min } from 'class-validator';

export const VERDICTS = ['normal', 'anomaly', 'ignore'] as const;
export type Verdict = (typeof VERDICTS)[number];
/** Rows one request may name. */
export const MAX_FEEDBACK_ROWS = 10_000;

export class FeedbackRequestDto {
  @ApiProperty({
    enum: VERDICTS,
    description:
      '`normal`: the rows are a false alarm: their values are learned as normal (once), and values as far out are no longer flagged. ' +
      '`anomaly`: the period is an incident: its rows are never learned, and a re-learning of a level inside it is undone. ' +
      '`ignore`: a maintenance window: its rows are scored but neither flagged nor learned.',
  })
  @IsIn(VERDICTS, { message: `verdict must be one of ${VERDICTS.join(', ')}` })
  verdict!: Verdict;

  @ApiPropertyOptional({
    example: 'processed/sensors_20260224T001051.csv',
    description: 'The batch: its raw key (`raw/<name>.csv`), its scored file (`processed/<name>.csv`, as /anomalies/recent gives it) or `<name>.csv`. Needed with `rows`, and for `normal`.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  source_file?: string;

  @ApiPropertyOptional({ type: [Number], example: [17], description: `0-based data rows of source_file (the \`row\` of /anomalies/recent), at most ${MAX_FEEDBACK_ROWS}` })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_FEEDBACK_ROWS)
  @IsInt({ each: true, message: 'rows must be integers >= 0' })
  @Min(0, { each: true, message: 'rows must be integers >= 0' })
  rows?: number[];

  @ApiPropertyOptional({ example: '2026-02-24T09:00:00Z', description: 'Start of the period (ISO 8601 or epoch seconds/ms), by the rows\' own timestamps; with `to`, instead of `rows`' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  from?: string;

  @ApiPropertyOptional({ example: '2026-02-24T11:30:00Z', description: 'End of the period, included' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  to?: string;

  @ApiPropertyOptional({ example: 'pump 3 serviced', description: 'Free text, kept with the record' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  note?: string;
}

export class FeedbackRecordDto {
  @ApiProperty({ example: '20260224T101502123Z-3f9a1c2b', description: 'Also its key: state/feedback/<id>.json' })
  id!: string;
  @ApiProperty({ example: '2026-02-24T10:15:02.123Z' })
  received_at!: string;
  @ApiProperty({ enum: VERDICTS })
  verdict!: Verdict;
  @ApiPropertyOptional({ example: 'processed/sensors_20260224T001051.csv', description: 'The batch\'s scored file' })
  source_file?: string;
  @ApiPropertyOptional({ type: [Number] })
  rows?: number[];
  @ApiPropertyOptional({ example: '2026-02-24T09:00:00.000Z', description: 'The period, as ISO 8601 (for `rows` of an incident or maintenance: their first and last timestamps)' })
  from?: string;
  @ApiPropertyOptional({ example: '2026-02-24T11:30:00.000Z' })
  to?: string;
  @ApiPropertyOptional()
  note?: string;
}

export class FeedbackAppliedDto extends FeedbackRecordDto {
  @ApiProperty({ example: 4, description: '`normal`: values learned as normal (rows x channels with a value)' })
  values_learned!: number;
  @ApiProperty({ example: ['pressure'], type: [String], description: '`anomaly`: channels whose re-learned level was moved back' })
  relearns_undone!: string[];
}

export class FeedbackListDto {
  @ApiProperty({ type: [FeedbackRecordDto], description: 'Newest first, at most 200' })
  feedback!: FeedbackRecordDto[];
  @ApiProperty({ example: 2, description: 'Incident and maintenance windows in force' })
  exclusion_windows!: number;
}
