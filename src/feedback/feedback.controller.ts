import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiPayloadTooLargeResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { ErrorDto } from '../reporting/dto/reporting.dto';
import { FeedbackAppliedDto, FeedbackListDto, FeedbackRequestDto } from './dto/feedback.dto';
import { FeedbackService } from './feedback.service';
import { Protected } from '../auth/public.decorator';

@ApiTags('feedback')
@Protected()
@Controller('feedback')
@ApiServiceUnavailableResponse({ type: ErrorDto, description: 'Storage does not answer' })
export class FeedbackController {
  constructor(private readonly feedback: FeedbackService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Tell the service what rows or a period were: a false alarm (normal), an incident (anomaly) or maintenance (ignore)',
    description:
      'Stored in state/feedback/<id>.json and applied to the baseline at once; replayed at start-up. Takes effect from the next batch.',
  })
  @ApiCreatedResponse({ type: FeedbackAppliedDto })
  @ApiBadRequestResponse({ type: ErrorDto, description: 'A field is invalid, or the verdict lacks what it needs (rows or a period)' })
  @ApiNotFoundResponse({ type: ErrorDto, description: 'No scored file for source_file' })
  @ApiPayloadTooLargeResponse({ type: ErrorDto, description: 'A period over a scored file too big to read for it' })
  submit(@Body() body: FeedbackRequestDto): Promise<FeedbackAppliedDto> {
    return this.feedback.submit(body);
  }

  @Get()
  @ApiOperation({ summary: 'The feedback given, newest first, and the windows in force' })
  @ApiOkResponse({ type: FeedbackListDto })
  list(): FeedbackListDto {
    return this.feedback.list();
  }
}
