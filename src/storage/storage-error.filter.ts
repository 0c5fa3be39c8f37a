import { ArgumentsHost, Catch, ExceptionFilter, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { InvalidKeyError, StorageError } from './object-store';

/**
 * Storage that does not answer is the service's problem of the moment, not a 500 bug and never a
 * 200 carrying an error: 503 tells clients (and load balancers) to come back later.
 */
@Catch(StorageError, InvalidKeyError)
export class StorageErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(StorageErrorFilter.name);

  catch(error: StorageError | InvalidKeyError, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (error instanceof InvalidKeyError) {
      res.status(HttpStatus.BAD_REQUEST).json({ statusCode: 400, error: 'Bad Request', message: error.message });
      return;
    }
    this.logger.warn(`Answering 503: ${error.message}`);
    res.status(HttpStatus.SERVICE_UNAVAILABLE).json({
      statusCode: 503,
      error: 'Service Unavailable',
      message: `Storage is unavailable: ${error.message}`,
    });
  }
}
