import { ArgumentsHost, Catch, ExceptionFilter, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { IngestionUnavailableError, SnsMessageError, SnsVerificationError } from './ingestion.errors';
import { NotifyErrorDto } from './dto/notify-result.dto';

type IngestionError = SnsMessageError | SnsVerificationError | IngestionUnavailableError;

/** Seconds SNS (or any client) is asked to wait before redelivering after a 503. */
const RETRY_AFTER_S = 5;

/** Maps ingestion's domain errors to 400 / 403 / 503 with Nest's usual JSON error shape. */
@Catch(SnsMessageError, SnsVerificationError, IngestionUnavailableError)
export class IngestionExceptionFilter implements ExceptionFilter<IngestionError> {
  private readonly logger = new Logger('NotifyController');

  catch(err: IngestionError, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    const req = http.getRequest<Request>();
    const from = req.ip ?? 'unknown';
    let body: NotifyErrorDto;
    if (err instanceof SnsVerificationError) {
      this.logger.warn(`Refused an SNS message from ${from}: ${err.message}`);
      body = { statusCode: HttpStatus.FORBIDDEN, error: 'Forbidden', message: err.message };
    } else if (err instanceof IngestionUnavailableError) {
      this.logger.warn(`Asked SNS to redeliver (503): ${err.message}`);
      res.setHeader('Retry-After', String(RETRY_AFTER_S));
      body = { statusCode: HttpStatus.SERVICE_UNAVAILABLE, error: 'Service Unavailable', message: err.message };
    } else {
      this.logger.warn(`Malformed SNS message from ${from}: ${err.message}`);
      body = { statusCode: HttpStatus.BAD_REQUEST, error: 'Bad Request', message: err.message };
    }
    res.status(body.statusCode).json(body);
  }
}
