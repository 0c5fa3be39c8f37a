import { BadRequestException, Injectable, Logger, NotFoundException, OnModuleInit, Optional, PayloadTooLargeException } from '@nestjs/common';
import { BaselineService } from '../baseline/baseline.service';
import { MAX_EXCLUSION_WINDOWS } from '../baseline/exclusion-windows';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { batchKeys, PROCESSED_PREFIX } from '../processing/batch-keys';
import { pipelineSettings } from '../processing/pipeline-settings';
import { parseTimestamp } from '../processing/timestamp-parser';
import { readScoredSeries } from '../reporting/scored-csv.reader';
import { ObjectStore } from '../storage/object-store';
import { FeedbackAppliedDto, FeedbackRequestDto } from './dto/feedback.dto';
import { FEEDBACK_PREFIX, FeedbackError, feedbackKey, FeedbackRecord, newFeedbackId, parseRecord, recordOf } from './feedback-record';
import { FeedbackRows, normalFeedback } from './normal-feedback';

/** Rows of a scored file read for feedback: a bound on memory for one request. */
export const MAX_FILE_ROWS = 200_000;
/** Records listed by GET /feedback. */
const LISTED = 200;

/**
 * Operators' feedback: each record is stored first (`state/feedback/<id>.json`, so it survives a
 * restart and the bucket holds what was said), then applied to the baseline:
 * - `normal`: the rows' values are learned as normal, exactly once (the baseline's ledger holds
 *   the record's key), and values as far out stop being flagged;
 * - `anomaly`: the period becomes an exclusion window (its rows are not learned from the next
 *   batch on) and a level re-learned inside it is moved back (exactly once);
 * - `ignore`: a maintenance window: its rows are scored, not flagged, not learned.
 * At start-up every stored record is applied again in order; what the baseline already holds is
 * not applied twice.
 */
@Injectable()
export class FeedbackService implements OnModuleInit {
  private readonly logger = new Logger(FeedbackService.name);
  private readonly records: FeedbackRecord[] = [];

  constructor(
    private readonly store: ObjectStore,
    private readonly baseline: BaselineService,
    private readonly config: AppConfig,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  async onModuleInit(): Promise<void> {
    let applied = 0;
    for await (const info of this.store.list(FEEDBACK_PREFIX)) {
      if (!info.key.endsWith('.json')) continue;
      if (this.records.length >= MAX_EXCLUSION_WINDOWS) {
        this.logger.error(`More than ${MAX_EXCLUSION_WINDOWS} feedback records under ${FEEDBACK_PREFIX}: the rest are not applied`);
        break;
      }
      try {
        const text = await this.store.getText(info.key);
        if (text === null) continue;
        await this.apply(parseRecord(text, info.key));
        applied++;
      } catch (err) {
        // One bad record must not keep the service from starting, nor the others from applying.
        this.logger.error(`Feedback ${info.key} not applied: ${(err as Error).message}`);
      }
    }
    if (applied > 0) this.logger.log(`Applied ${applied} stored feedback record(s) from ${FEEDBACK_PREFIX}`);
  }

  list(): { feedback: FeedbackRecord[]; exclusion_windows: number } {
    return { feedback: this.records.slice(-LISTED).reverse(), exclusion_windows: this.baseline.exclusions.size };
  }

  async submit(req: FeedbackRequestDto): Promise<FeedbackAppliedDto> {
    const now = new Date();
    let record: FeedbackRecord;
    try {
      record = recordOf(req, newFeedbackId(now), now);
    } catch (err) {
      throw err instanceof FeedbackError ? new BadRequestException(err.message) : err;
    }
    if (record.verdict !== 'normal' && this.baseline.exclusions.size >= MAX_EXCLUSION_WINDOWS) {
      throw new BadRequestException(`there are already ${MAX_EXCLUSION_WINDOWS} incident and maintenance windows`);
    }
    if (record.source_file !== undefined) {
      const scored = await this.scoredRows(record.source_file, record.rows);
      record.source_file = scored.key;
      if (record.verdict !== 'normal' && record.from === undefined) {
        // An incident or maintenance named by rows is the period they span.
        const times = record.rows!.map((r) => parseTimestamp(scored.rows.timestamps[r] ?? '')).filter((t) => t === t);
        if (times.length === 0) throw new BadRequestException(`the rows of ${scored.key} have no timestamps: give the period as from/to`);
        record.from = new Date(Math.min(...times)).toISOString();
        record.to = new Date(Math.max(...times)).toISOString();
      }
    }
    await this.store.put(feedbackKey(record.id), JSON.stringify(record, null, 2) + '\n', 'application/json');
    const applied = await this.apply(record);
    this.logger.log(`Feedback ${record.id}: ${describe(record)}${record.note ? ` ("${record.note}")` : ''}`);
    return { ...record, ...applied };
  }

  /** Applies one record (stored already); what the baseline holds from an earlier application is not applied again. */
  private async apply(record: FeedbackRecord): Promise<{ values_learned: number; relearns_undone: string[] }> {
    const source = { key: feedbackKey(record.id), etag: record.verdict };
    const out = { values_learned: 0, relearns_undone: [] as string[] };
    if (record.verdict === 'normal') {
      if (this.baseline.hasAbsorbed(source.key, source.etag)) {
        this.remember(record);
        return out;
      }
      const scored = await this.scoredRows(record.source_file!, record.rows);
      const selected = record.rows ?? rowsIn(scored.rows, Date.parse(record.from!), Date.parse(record.to!));
      const settings = pipelineSettings(this.config).detection;
      const { contribution, values } = normalFeedback(scored.rows, selected, this.baseline.snapshot(), settings);
      if (values > 0) await this.baseline.absorb(source, contribution);
      out.values_learned = values;
    } else {
      const from = Date.parse(record.from!);
      const to = Date.parse(record.to!);
      this.baseline.addExclusion({ id: record.id, from, to, verdict: record.verdict });
      if (record.verdict === 'anomaly') {
        const result = await this.baseline.undoRelearns(source, from, to);
        for (const e of result.events) if (e.type === 'relearn-undone') out.relearns_undone.push(e.entity === undefined ? e.channel : `${e.entity}/${e.channel}`);
      }
      this.metrics?.exclusionWindows.set(this.baseline.exclusions.size);
    }
    this.remember(record);
    return out;
  }

  private remember(record: FeedbackRecord): void {
    this.records.push(record);
    this.metrics?.feedback.inc({ verdict: record.verdict });
  }

  /** The scored file of a batch named as the API allows, read up to the rows needed. */
  private async scoredRows(name: string, rows: number[] | undefined): Promise<{ key: string; rows: FeedbackRows }> {
    if (this.config.detection.entityColumn) throw new BadRequestException('feedback on rows is not available with ENTITY_COLUMN yet: give a period (anomaly, ignore)');
    const key = scoredKey(name, this.config.ingestion.rawPrefix, this.config.ingestion.rawSuffix);
    if (key === null) throw new BadRequestException(`source_file must name a batch: raw/<name>.csv, processed/<name>.csv or <name>.csv, got ${JSON.stringify(name)}`);
    const need = rows ? rows[rows.length - 1] + 2 : MAX_FILE_ROWS + 1;
    const stream = await this.store.getStream(key);
    if (!stream) throw new NotFoundException(`No scored file ${key} (has the batch been processed?)`);
    const series = await readScoredSeries(stream, Math.min(need, MAX_FILE_ROWS + 1));
    if (series.channels.length === 0) throw new BadRequestException(`${key} is not a scored file`);
    if (!rows && series.truncated) throw new PayloadTooLargeException(`${key} has more than ${MAX_FILE_ROWS} rows: name the rows instead of a period`);
    const length = series.anomaly.length;
    const beyond = rows?.filter((r) => r >= length) ?? [];
    if (beyond.length > 0) throw new BadRequestException(`${key} has ${series.truncated ? 'more than ' : ''}${length} rows; no row ${beyond.slice(0, 5).join(', ')}`);
    return { key, rows: series };
  }
}

/** `processed/<name>.csv` for a raw key, a scored key or a bare name; null for anything else. */
export function scoredKey(name: string, rawPrefix: string, rawSuffix: string): string | null {
  if (name.includes('\0') || name.includes('..') || name.startsWith('/') || name.endsWith('/')) return null;
  if (name.startsWith(PROCESSED_PREFIX)) return name.endsWith('.csv') && name.length > PROCESSED_PREFIX.length + 4 ? name : null;
  const raw = name.startsWith(rawPrefix) ? name : `${rawPrefix}${name}`;
  if (!raw.toLowerCase().endsWith(rawSuffix.toLowerCase())) return null;
  const keys = batchKeys(raw, rawPrefix, rawSuffix);
  return keys.name === '' ? null : keys.output;
}

function rowsIn(rows: FeedbackRows, from: number, to: number): number[] {
  const out: number[] = [];
  rows.timestamps.forEach((ts, r) => {
    const t = parseTimestamp(ts ?? '');
    if (t >= from && t <= to) out.push(r);
  });
  return out;
}

function describe(r: FeedbackRecord): string {
  const where = r.rows ? `${r.rows.length} row(s) of ${r.source_file}` : `${r.from} to ${r.to}${r.source_file ? ` in ${r.source_file}` : ''}`;
  return r.verdict === 'normal' ? `${where} learned as normal` : r.verdict === 'anomaly' ? `incident ${where}: not learned` : `maintenance ${where}: not flagged, not learned`;
}
