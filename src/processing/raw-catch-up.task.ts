import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { ProcessingService } from './processing.service';
import { ProcessingTuning } from './processing.tuning';

const INTERVAL_NAME = 'raw-catch-up';

/** Runs the catch-up scan of raw/ once at start-up (without holding boot) and then periodically. */
@Injectable()
export class RawCatchUpTask implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RawCatchUpTask.name);

  constructor(
    private readonly processing: ProcessingService,
    private readonly scheduler: SchedulerRegistry,
    private readonly tuning: ProcessingTuning,
  ) {}

  onApplicationBootstrap(): void {
    if (this.tuning.catchUpOnBoot) this.tick();
    if (this.tuning.catchUpIntervalMs > 0) {
      this.scheduler.addInterval(INTERVAL_NAME, setInterval(() => this.tick(), this.tuning.catchUpIntervalMs));
    }
  }

  onModuleDestroy(): void {
    if (this.scheduler.doesExist('interval', INTERVAL_NAME)) this.scheduler.deleteInterval(INTERVAL_NAME);
  }

  private tick(): void {
    this.processing.scanRaw().catch((err: unknown) => {
      this.logger.warn(`Catch-up scan of raw/ failed (next try in ${this.tuning.catchUpIntervalMs / 1000} s): ${err instanceof Error ? err.message : String(err)}`);
    });
  }
}
