import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AppConfig } from '../config/app-config';
import { BaselineService } from './baseline.service';

export const BASELINE_FLUSH_INTERVAL_NAME = 'baseline-flush';

/**
 * Flushes the baseline to the store every BASELINE_FLUSH_INTERVAL. Registered with the
 * SchedulerRegistry at boot rather than with `@Interval`, whose period is fixed at compile time.
 */
@Injectable()
export class BaselineFlushTask implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(BaselineFlushTask.name);

  constructor(
    private readonly baseline: BaselineService,
    private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    const ms = this.config.baseline.flushIntervalMs;
    // flush() never throws; the timer must not keep a stopping process alive.
    const timer = setInterval(() => void this.baseline.flush(), ms);
    timer.unref();
    this.scheduler.addInterval(BASELINE_FLUSH_INTERVAL_NAME, timer);
    this.logger.log(`Baseline flushed to the store every ${ms / 1000} s when changed`);
  }

  onModuleDestroy(): void {
    if (this.scheduler.doesExist('interval', BASELINE_FLUSH_INTERVAL_NAME)) this.scheduler.deleteInterval(BASELINE_FLUSH_INTERVAL_NAME);
  }
}
