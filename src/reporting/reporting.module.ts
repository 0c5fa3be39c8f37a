import { Module } from '@nestjs/common';
import { AnomaliesController } from './anomalies.controller';
import { BatchesController } from './batches.controller';
import { ReportingIndexService } from './reporting-index.service';
import { ReportingRefreshTask } from './reporting-refresh.task';

@Module({
  controllers: [AnomaliesController, BatchesController],
  providers: [ReportingIndexService, ReportingRefreshTask],
  exports: [ReportingIndexService],
})
export class ReportingModule {}
