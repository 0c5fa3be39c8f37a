import { ArgumentsHost, Catch, HttpServer, Logger } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Request } from 'express';
import type { MetricsService } from './metrics/metrics.service';

/**
 * A client that hangs up in the middle of its request body is not the service's error: one debug
 * line and a metric, where Nest would log an ERROR with a stack for each (1,000 aborted POSTs wrote
 * 14,000 lines). Everything else goes on to Nest's own handling.
 */
@Catch()
export class RequestAbortedFilter extends BaseExceptionFilter {
  private readonly logger = new Logger('HTTP');

  constructor(
    adapter: HttpServer,
    private readonly metrics?: MetricsService,
  ) {
    super(adapter);
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    if (isAborted(exception) && host.getType() === 'http') {
      const req = host.switchToHttp().getRequest<Request>();
      this.logger.debug(`${req.method} ${req.originalUrl ?? req.url}: the client aborted its request`);
      this.metrics?.abortedRequests.inc();
      return;
    }
    super.catch(exception, host);
  }
}

function isAborted(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { type?: unknown }).type === 'request.aborted';
}
