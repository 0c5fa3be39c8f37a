import { Injectable, Logger } from '@nestjs/common';
import { ObjectStore } from '../storage/object-store';
import { HealthDto } from './dto/health.dto';

const PING_TIMEOUT_MS = 3000;

@Injectable()
export class HealthService {
  private readonly logger = new Logger(HealthService.name);

  constructor(private readonly store: ObjectStore) {}

  async check(): Promise<HealthDto> {
    const timestamp = new Date().toISOString();
    try {
      await withTimeout(this.store.ping(), PING_TIMEOUT_MS);
      return { status: 'ok', storage: 'ok', bucket: this.store.location, timestamp };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.logger.warn(`Health check: storage does not answer: ${reason}`);
      return { status: 'unavailable', storage: 'unavailable', bucket: this.store.location, timestamp, reason };
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
