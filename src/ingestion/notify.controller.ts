import { Body, Controller, Headers, HttpCode, HttpStatus, Post, Req, UseFilters } from '@nestjs/common';
import type { Request } from 'express';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConsumes,
  ApiForbiddenResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { NotifyErrorDto, NotifyResultDto } from './dto/notify-result.dto';
import { SnsEnvelopeDto } from './dto/sns-envelope.dto';
import { IngestionExceptionFilter } from './ingestion-exception.filter';
import { NotifyService, SnsHeaders } from './notify.service';
import { SNS_MESSAGE_TYPES } from './sns-message';
import { Public } from '../auth/public.decorator';

@ApiTags('ingestion')
@Public()
@Controller('notify')
@UseFilters(IngestionExceptionFilter)
export class NotifyController {
  constructor(private readonly notify: NotifyService) {}

  @Post()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'SNS HTTP(S) subscription endpoint: S3 ObjectCreated notifications for raw/ batches',
    description:
      'Verifies the SNS signature (SignatureVersion 1 and 2, certificate from an SNS host only) and the topic ' +
      'allowlist, confirms subscriptions, and queues each new raw/*.csv object once. Answers as soon as the ' +
      'object is queued; scoring happens in the background.',
  })
  @ApiConsumes('text/plain', 'application/json')
  @ApiHeader({ name: 'x-amz-sns-message-type', required: true, enum: SNS_MESSAGE_TYPES })
  @ApiHeader({ name: 'x-amz-sns-message-id', required: false, description: 'Must equal MessageId when sent' })
  @ApiHeader({ name: 'x-amz-sns-topic-arn', required: false, description: 'Must equal TopicArn when sent' })
  @ApiBody({ type: SnsEnvelopeDto })
  @ApiOkResponse({ type: NotifyResultDto, description: 'Accepted, a duplicate, ignored, or a confirmed subscription' })
  @ApiBadRequestResponse({ type: NotifyErrorDto, description: 'Not an SNS message, or headers disagree with the body' })
  @ApiForbiddenResponse({ type: NotifyErrorDto, description: 'Signature, certificate URL, SubscribeURL or topic refused: nothing processed or fetched' })
  @ApiPayloadTooLargeResponse({ type: NotifyErrorDto, description: 'Body over 256 KB (the SNS limit)' })
  @ApiServiceUnavailableResponse({ type: NotifyErrorDto, description: 'Queue or certificate host unavailable; SNS will redeliver' })
  // The body stays `unknown` on purpose: the global ValidationPipe must not strip or convert fields
  // of a signed message. text/plain bodies arrive as a string, application/json ones as an object.
  async receive(@Body() body: unknown, @Headers() headers: SnsHeaders, @Req() req: Request): Promise<NotifyResultDto> {
    return this.notify.handle(body, headers, req.socket.remoteAddress);
  }
}
