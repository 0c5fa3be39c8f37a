import { Module } from '@nestjs/common';
import { BaselineModule } from '../baseline/baseline.module';
import { FeedbackController } from './feedback.controller';
import { FeedbackService } from './feedback.service';

/** Operators' feedback (POST /feedback). Needs ConfigModule and StorageModule (global). */
@Module({
  imports: [BaselineModule],
  controllers: [FeedbackController],
  providers: [FeedbackService],
})
export class FeedbackModule {}
