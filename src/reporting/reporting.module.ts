import { Module } from '@nestjs/common';
import { BaselineModule } from '../baseline/baseline.module';
import { ProcessingModule } from '../processing/processing.module';
import { BaselineController } from './baseline.controller';
import { AnomaliesController } from './anomalies.controller';
import { BatchesController } from './batches.controller';
import { ReportingIndexService } from './reporting-index.service';
import { ReportingRefreshTask } from './reporting-refresh.task';

@Module({
  imports: [BaselineModule, ProcessingModule],
  controllers: [AnomaliesController, BatchesController, BaselineController],
  providers: [ReportingIndexService, ReportingRefreshTask],
  exports: [ReportingIndexService],
})
export class ReportingModule {}
