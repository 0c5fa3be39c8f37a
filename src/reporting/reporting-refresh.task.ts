import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { ReportingIndexService } from './reporting-index.service';

/** Picks up batches written by other instances: the index's own updates cover this one's. */
export const REPORTING_REFRESH_MS = 60_000;

@Injectable()
export class ReportingRefreshTask implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReportingRefreshTask.name);

  constructor(
    private readonly index: ReportingIndexService,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    const timer = setInterval(() => {
      this.index.refresh().catch((err) => this.logger.warn(`Index refresh failed, retrying next tick: ${(err as Error).message}`));
    }, REPORTING_REFRESH_MS);
    timer.unref();
    this.scheduler.addInterval(ReportingRefreshTask.name, timer);
  }

  onApplicationShutdown(): void {
    if (this.scheduler.doesExist('interval', ReportingRefreshTask.name)) this.scheduler.deleteInterval(ReportingRefreshTask.name);
  }
}
