import { Controller, Get, HttpStatus, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { HealthService } from './health.service';
import { HealthDto } from './dto/health.dto';
import { AuthenticatedRequest } from '../auth/auth.guard';
import { Public } from '../auth/public.decorator';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get()
  @ApiOperation({ summary: 'Liveness, and whether the object store answers; where it is (bucket) and why it failed (reason) only to callers with a credential' })
  @ApiOkResponse({ type: HealthDto })
  @ApiServiceUnavailableResponse({ type: HealthDto, description: 'The object store does not answer' })
  async check(@Req() req: AuthenticatedRequest, @Res({ passthrough: true }) res: Response): Promise<HealthDto> {
    const report = await this.health.check();
    if (report.status !== 'ok') res.status(HttpStatus.SERVICE_UNAVAILABLE);
    if (req.authenticated === false) return { status: report.status, storage: report.storage, timestamp: report.timestamp };
    return report;
  }
}
