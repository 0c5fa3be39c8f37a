import { Module } from '@nestjs/common';
import { AnomaliesController } from './anomalies.controller';
import { ReportingIndexService } from './reporting-index.service';
import { ReportingRefreshTask } from './reporting-refresh.task';

@Module({
  controllers: [AnomaliesController],
  providers: [ReportingIndexService, ReportingRefreshTask],
  exports: [ReportingIndexService],
})
export class ReportingModule {}
