import { DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { ReportingModule } from './reporting/reporting.module';
import { StorageModule } from './storage/storage.module';

/** The whole service. `forRoot(config)` lets tests boot it with their own configuration. */
@Module({})
export class AppModule {
  static forRoot(config?: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), ScheduleModule.forRoot(), MetricsModule, StorageModule, HealthModule, ReportingModule],
    };
  }
}
