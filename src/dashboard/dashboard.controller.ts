import { BadRequestException, Controller, Get, Header, NotFoundException, Query, Res, StreamableFile } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ObjectStore } from '../storage/object-store';
import { DASHBOARD_HTML } from './dashboard.page';
import { pageCsp } from './page-csp';
import { Protected, Public } from '../auth/public.decorator';

/** The page holds no data (it asks the API, which needs a credential), so anyone may load it. */
const DASHBOARD_CSP = pageCsp(DASHBOARD_HTML);

@ApiTags('dashboard')
@Controller()
export class DashboardController {
  constructor(private readonly store: ObjectStore) {}

  @Public()
  @Get(['/', 'dashboard'])
  @ApiOperation({ summary: 'The dashboard page: series with flagged points, anomaly rate, baseline, recent anomalies' })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'A self-contained HTML page' })
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', DASHBOARD_CSP)
  page(): string {
    return DASHBOARD_HTML;
  }

  @Protected()
  @Get('batches/file')
  @ApiOperation({ summary: 'Download a raw or scored batch file (keys under raw/ or processed/ only)' })
  @ApiQuery({ name: 'key', example: 'processed/sensors_20260224T001051.csv' })
  @ApiProduces('text/csv', 'application/json')
  @ApiOkResponse({ description: 'The file' })
  @ApiBadRequestResponse({ description: 'The key is not under raw/ or processed/' })
  @ApiNotFoundResponse({ description: 'No such file' })
  async file(@Query('key') key: string, @Res({ passthrough: true }) res: Response): Promise<StreamableFile> {
    if (typeof key !== 'string' || !/^(raw|processed)\/[^/]+$/.test(key)) {
      throw new BadRequestException('key must name a file directly under raw/ or processed/');
    }
    const stream = await this.store.getStream(key);
    if (!stream) throw new NotFoundException(`No file ${key}`);
    res.setHeader('Content-Type', key.endsWith('.json') ? 'application/json' : 'text/csv; charset=utf-8');
    return new StreamableFile(stream);
  }
}
