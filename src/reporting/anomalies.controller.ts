import { Controller, Get, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { RecentAnomaliesQuery } from './dto/recent-anomalies.query';
import { AnomalySummaryDto, ErrorDto, NoBatchesYetDto, RecentAnomaliesDto } from './dto/reporting.dto';
import { RECENT_FILES, RecentAnomalies, ReportingIndexService } from './reporting-index.service';
import { Protected } from '../auth/public.decorator';

@ApiTags('anomalies')
@Protected()
@Controller('anomalies')
@ApiServiceUnavailableResponse({ type: ErrorDto, description: 'Storage does not answer' })
export class AnomaliesController {
  constructor(private readonly reporting: ReportingIndexService) {}

  @Get('recent')
  @ApiOperation({ summary: `Anomalous rows of the ${RECENT_FILES} most recent scored files, newest file first` })
  @ApiOkResponse({ type: RecentAnomaliesDto })
  @ApiBadRequestResponse({ type: ErrorDto, description: 'limit is not an integer from 1 to 1000' })
  recent(@Query() query: RecentAnomaliesQuery): Promise<RecentAnomalies> {
    return this.reporting.recentAnomalies(query.limit);
  }

  @Get('summary')
  @ApiOperation({ summary: 'Totals over every processed batch, and the 5 newest batch summaries' })
  @ApiExtraModels(AnomalySummaryDto, NoBatchesYetDto)
  @ApiOkResponse({
    description: 'The totals, or a message when nothing has been processed yet',
    schema: { oneOf: [{ $ref: getSchemaPath(AnomalySummaryDto) }, { $ref: getSchemaPath(NoBatchesYetDto) }] },
  })
  summary(): ReturnType<ReportingIndexService['summary']> {
    return this.reporting.summary();
  }
}
