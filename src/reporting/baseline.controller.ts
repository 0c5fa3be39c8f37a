import { Controller, Get, Query } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BaselineService } from '../baseline/baseline.service';
import { jsonRecord, setOwn } from '../baseline/channel-map';
import { AppConfig } from '../config/app-config';
import { SeasonCurve } from '../detection/season-profile';
import { BaselineCurrentDto, BaselineCurrentQuery, ChannelBaselineDto, SeasonNowDto } from './dto/baseline-current.dto';
import { Protected } from '../auth/public.decorator';

const round4 = (x: number) => Math.round(x * 10000) / 10000;

@ApiTags('baseline')
@Protected()
@Controller('baseline')
@ApiExtraModels(ChannelBaselineDto, SeasonNowDto)
export class BaselineController {
  constructor(
    private readonly baseline: BaselineService,
    private readonly config: AppConfig,
  ) {}

  @Get('current')
  @ApiOperation({ summary: 'The learned per-channel baseline, from memory (not read from S3 per request); entities a page at a time' })
  @ApiOkResponse({ type: BaselineCurrentDto })
  current(@Query() query: BaselineCurrentQuery): BaselineCurrentDto {
    // Channel and entity names come from CSV headers and cells: maps without a prototype, so a
    // name like "__proto__" is just a key.
    const channels = jsonRecord<ChannelBaselineDto>();
    const entities = jsonRecord<Record<string, ChannelBaselineDto>>();
    const now = Date.now();
    const z = this.config.detection.zThreshold;
    const page = this.baseline.page(query.entities_after, query.entities_limit);
    for (const { channel, entity, stats, mature, season } of [...page.channels, ...page.entities]) {
      const dto: ChannelBaselineDto = {
        observations: round4(stats.count),
        mean: round4(stats.mean),
        std: round4(stats.std),
        baseline_mature: mature,
        seasonal: season?.period ?? null,
      };
      if (season) {
        const curve = new SeasonCurve(season);
        dto.season = {
          timezone: season.timezone,
          slot: curve.slot(now),
          expected: round4(curve.restored(stats.mean, now)),
          band: [round4(curve.restored(stats.mean - z * stats.std, now)), round4(curve.restored(stats.mean + z * stats.std, now))],
        };
      }
      if (entity === undefined) {
        setOwn(channels, channel, dto);
      } else {
        if (!Object.prototype.hasOwnProperty.call(entities, entity)) setOwn(entities, entity, jsonRecord<ChannelBaselineDto>());
        setOwn(entities[entity], channel, dto);
      }
    }
    return {
      last_updated: this.baseline.lastUpdated ?? null,
      channels,
      ...(page.totalEntities > 0 ? { entities, entities_total: page.totalEntities, next_entities_after: page.next } : {}),
      z_threshold: this.config.detection.zThreshold,
      min_count: this.config.baseline.minCount,
    };
  }
}
