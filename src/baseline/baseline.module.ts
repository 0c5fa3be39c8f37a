import { Module } from '@nestjs/common';
import { BaselineFlushTask } from './baseline-flush.task';
import { BaselineService } from './baseline.service';

/**
 * The baseline state and its persistence. Needs ConfigModule and StorageModule (global) and
 * ScheduleModule.forRoot() in the application; MetricsModule is used when present.
 */
@Module({
  providers: [BaselineService, BaselineFlushTask],
  exports: [BaselineService],
})
export class BaselineModule {}
