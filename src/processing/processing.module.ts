import { Module } from '@nestjs/common';
import { BaselineModule } from '../baseline/baseline.module';
import { ProcessingService } from './processing.service';
import { ProcessingTuning } from './processing.tuning';
import { RawCatchUpTask } from './raw-catch-up.task';

/**
 * The batch queue and pipeline. Needs ConfigModule, StorageModule (global) and
 * ScheduleModule.forRoot() (for the catch-up interval) in the application.
 */
@Module({
  imports: [BaselineModule],
  providers: [ProcessingService, RawCatchUpTask, { provide: ProcessingTuning, useFactory: () => new ProcessingTuning() }],
  exports: [ProcessingService],
})
export class ProcessingModule {}
