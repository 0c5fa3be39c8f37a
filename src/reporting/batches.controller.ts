import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { RecentBatchDto, RecentBatchesQuery } from './dto/recent-batches.dto';
import { ErrorDto } from './dto/reporting.dto';
import { RecentBatch, ReportingIndexService } from './reporting-index.service';
import { Protected } from '../auth/public.decorator';

@ApiTags('batches')
@Protected()
@Controller('batches')
export class BatchesController {
  constructor(private readonly reporting: ReportingIndexService) {}

  @Get('recent')
  @ApiOperation({ summary: 'The newest scored batches with their rows as per-channel series, oldest first (the dashboard reads this)' })
  @ApiOkResponse({ type: [RecentBatchDto] })
  @ApiBadRequestResponse({ type: ErrorDto, description: 'files is not an integer from 1 to 50' })
  @ApiServiceUnavailableResponse({ type: ErrorDto, description: 'Storage does not answer' })
  recent(@Query() query: RecentBatchesQuery): Promise<RecentBatch[]> {
    return this.reporting.recentBatches(query.files);
  }
}
