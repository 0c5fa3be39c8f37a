import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { MAX_RECENT_LIMIT } from '../reporting-index.service';

export class RecentAnomaliesQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_RECENT_LIMIT, default: 50, description: 'How many anomalous rows to return at most' })
  @Type(() => Number)
  @IsInt({ message: `limit must be an integer from 1 to ${MAX_RECENT_LIMIT}` })
  @Min(1, { message: `limit must be an integer from 1 to ${MAX_RECENT_LIMIT}` })
  @Max(MAX_RECENT_LIMIT, { message: `limit must be an integer from 1 to ${MAX_RECENT_LIMIT}` })
  limit: number = 50;
}
