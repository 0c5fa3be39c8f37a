import { DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { AppConfig } from './config/app-config';
import { AuthModule } from './auth/auth.module';
import { ConfigModule } from './config/config.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { FeedbackModule } from './feedback/feedback.module';
import { HealthModule } from './health/health.module';
import { IngestionModule } from './ingestion/ingestion.module';
import { MetricsModule } from './metrics/metrics.module';
import { ProcessingModule } from './processing/processing.module';
import { ProcessingService } from './processing/processing.service';
import { ReportingModule } from './reporting/reporting.module';
import { StorageModule } from './storage/storage.module';

/** The whole service. `forRoot(config)` lets tests boot it with their own configuration. */
@Module({})
export class AppModule {
  static forRoot(config?: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        ScheduleModule.forRoot(),
        AuthModule,
        MetricsModule,
        StorageModule,
        HealthModule,
        ProcessingModule,
        // Ingestion only enqueues: its BatchSink port is bound to the processing queue here.
        IngestionModule.register({ imports: [ProcessingModule], sink: { useExisting: ProcessingService } }),
        ReportingModule,
        FeedbackModule,
        DashboardModule,
      ],
    };
  }
}
