import { isTimeZone } from '../detection/local-clock';
import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsPositive,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateBy,
  validateSync,
} from 'class-validator';

const toBool = ({ value }: { value: unknown }) => {
  if (value === undefined || value === '') return undefined;
  const v = String(value).trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  return value; // left as a string so IsBoolean reports it
};
const toNumber = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : Number(value);
const toStr = ({ value }: { value: unknown }) =>
  value === undefined || String(value).trim() === '' ? undefined : String(value).trim();

/** The entries of a comma-separated variable, as AppConfig reads them (trimmed, empty ones dropped). */
const entries = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Each comma-separated entry must pass `accepts`; the message names the variable and the bad entries. */
function EachEntry(variable: string, expected: string, accepts: (entry: string) => boolean): PropertyDecorator {
  const bad = (value: unknown) => (typeof value === 'string' ? entries(value).filter((e) => !accepts(e)) : [String(value)]);
  return ValidateBy({
    name: 'eachEntry',
    validator: {
      validate: (value: unknown) => bad(value).length === 0,
      defaultMessage: (args) => `${variable} must be a comma-separated list of ${expected}; not one: ${bad(args?.value).map((e) => JSON.stringify(e)).join(', ')}`,
    },
  });
}

/** A duration: a number followed by s, m, h or d. */
export const DURATION = /^\d+(?:\.\d+)?\s*(?:s|m|h|d)$/i;

/** ms of a DURATION string. */
export function durationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhd])$/i.exec(text.trim());
  if (!m) throw new RangeError(`not a duration: ${JSON.stringify(text)}`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2].toLowerCase() as 's' | 'm' | 'h' | 'd'];
}

/** arn:<partition>:sns:<region>:<account>:<topic name, ".fifo" for FIFO topics>. */
const TOPIC_ARN = /^arn:aws(?:-cn|-us-gov)?:sns:[a-z]{2}(?:-[a-z]+)+-\d{1,2}:\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?$/;

const isHttpUrl = (entry: string): boolean => {
  try {
    const url = new URL(entry);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host !== '' && !url.username && !url.password;
  } catch {
    return false;
  }
};

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;

/**
 * Every environment variable the service reads, with what it accepts. The README's configuration
 * table mirrors this class; `loadEnvironment` refuses to start on a value that does not fit.
 */
export class EnvironmentVariables {
  // --- storage
  @IsOptional() @Transform(toStr) @IsString()
  @Matches(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'BUCKET_NAME must be an S3 bucket name (3-63 chars of a-z, 0-9, ".", "-")' })
  BUCKET_NAME?: string;

  @IsOptional() @Transform(toStr) @IsString() @MinLength(1)
  AWS_REGION?: string;

  @IsOptional() @Transform(toStr)
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'S3_ENDPOINT must be an http(s) URL, e.g. http://127.0.0.1:9000' })
  S3_ENDPOINT?: string;

  @IsOptional() @Transform(toBool) @IsBoolean({ message: 'S3_FORCE_PATH_STYLE must be true or false' })
  S3_FORCE_PATH_STYLE?: boolean;

  @IsOptional() @Transform(toStr) @IsString()
  DATA_DIR?: string;

  // --- server
  @IsOptional() @Transform(toNumber) @IsInt({ message: 'PORT must be an integer from 0 to 65535' }) @Min(0) @Max(65535)
  PORT?: number;

  @IsOptional() @Transform(toStr) @IsString()
  HOST?: string;

  @IsOptional() @Transform(toStr) @IsIn(LOG_LEVELS as unknown as string[], { message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL?: (typeof LOG_LEVELS)[number];

  @IsOptional() @Transform(toStr) @IsIn(['text', 'json'], { message: 'LOG_FORMAT must be text or json' })
  LOG_FORMAT?: 'text' | 'json';

  // --- detection
  @IsOptional() @Transform(toStr) @IsString()
  CHANNELS?: string;

  @IsOptional() @Transform(toStr) @IsString()
  ENTITY_COLUMN?: string;

  @IsOptional() @Transform(toNumber) @IsNumber({}, { message: 'Z_THRESHOLD must be a number > 0' }) @IsPositive({ message: 'Z_THRESHOLD must be a number > 0' })
  Z_THRESHOLD?: number;

  @IsOptional() @Transform(toNumber) @IsInt({ message: 'IF_TREES must be an integer from 1 to 1000' }) @Min(1) @Max(1000)
  IF_TREES?: number;

  @IsOptional() @Transform(toNumber) @IsInt({ message: 'RANDOM_SEED must be an integer' })
  RANDOM_SEED?: number;

  // --- baseline
  @IsOptional() @Transform(toNumber) @IsInt({ message: 'BASELINE_MIN_COUNT must be an integer >= 2' }) @Min(2)
  BASELINE_MIN_COUNT?: number;

  @IsOptional() @Transform(toBool) @IsBoolean({ message: 'BASELINE_INCLUDE_ANOMALIES must be true or false' })
  BASELINE_INCLUDE_ANOMALIES?: boolean;

  @IsOptional() @Transform(toNumber) @IsNumber({}, { message: 'BASELINE_HALF_LIFE must be a number of observations >= 0 (0: cumulative statistics)' }) @Min(0, { message: 'BASELINE_HALF_LIFE must be a number of observations >= 0 (0: cumulative statistics)' })
  BASELINE_HALF_LIFE?: number;

  @IsOptional() @Transform(toStr) @Matches(DURATION, { message: 'BASELINE_RELEARN_AFTER must be a duration such as 90m, 2h or 3600s' })
  BASELINE_RELEARN_AFTER?: string;

  @IsOptional() @Transform(toNumber) @IsInt({ message: 'BASELINE_RELEARN_ROWS must be an integer >= 1' }) @Min(1, { message: 'BASELINE_RELEARN_ROWS must be an integer >= 1' })
  BASELINE_RELEARN_ROWS?: number;

  @IsOptional() @Transform(toNumber) @IsInt({ message: 'BASELINE_MAX_CHANNELS must be an integer from 1 to 100000' }) @Min(1) @Max(100_000)
  BASELINE_MAX_CHANNELS?: number;

  @IsOptional() @Transform(toNumber) @IsInt({ message: 'BASELINE_MAX_ENTITIES must be an integer from 1 to 10000000' }) @Min(1) @Max(10_000_000)
  BASELINE_MAX_ENTITIES?: number;

  @IsOptional() @Transform(toStr) @IsIn(['auto', 'off', 'daily', 'weekly'], { message: 'SEASONALITY must be auto, off, daily or weekly' })
  SEASONALITY?: 'auto' | 'off' | 'daily' | 'weekly';

  @IsOptional()
  @Transform(toStr)
  @ValidateBy({
    name: 'timeZone',
    validator: { validate: (v: unknown) => typeof v === 'string' && isTimeZone(v), defaultMessage: (a) => `TIMEZONE must be an IANA time zone such as UTC, Europe/Paris or America/New_York; not one: ${JSON.stringify(a?.value)}` },
  })
  TIMEZONE?: string;

  @IsOptional() @Transform(toNumber) @IsNumber({}, { message: 'BASELINE_FLUSH_INTERVAL must be a number of seconds >= 1' }) @Min(1, { message: 'BASELINE_FLUSH_INTERVAL must be a number of seconds >= 1' })
  BASELINE_FLUSH_INTERVAL?: number;

  @IsOptional() @Transform(toStr) @IsString()
  BASELINE_LOCAL_PATH?: string;

  // --- ingestion and processing
  @IsOptional() @Transform(toNumber) @IsInt({ message: 'PROCESS_CONCURRENCY must be an integer from 1 to 64' }) @Min(1) @Max(64)
  PROCESS_CONCURRENCY?: number;

  @IsOptional() @Transform(toNumber) @IsInt({ message: 'PROCESS_MAX_ATTEMPTS must be an integer from 1 to 20' }) @Min(1) @Max(20)
  PROCESS_MAX_ATTEMPTS?: number;

  @IsOptional() @Transform(toNumber) @IsInt({ message: 'PROCESS_WORKERS must be an integer from 0 to 16' }) @Min(0) @Max(16)
  PROCESS_WORKERS?: number;

  @IsOptional() @Transform(toStr) @IsString()
  RAW_PREFIX?: string;

  @IsOptional() @Transform(toStr) @IsString()
  RAW_SUFFIX?: string;

  @IsOptional() @Transform(toBool) @IsBoolean({ message: 'SNS_VERIFY_SIGNATURES must be true or false' })
  SNS_VERIFY_SIGNATURES?: boolean;

  @IsOptional() @Transform(toStr) @IsIn(['on', 'off'], { message: 'AUTH must be on or off' })
  AUTH?: 'on' | 'off';

  @IsOptional() @Transform(toStr)
  @EachEntry('API_TOKEN_SHA256', 'SHA-256 digests of API tokens, 64 hex digits each (printf %s "$TOKEN" | sha256sum)', (e) => /^[0-9a-f]{64}$/i.test(e))
  API_TOKEN_SHA256?: string;

  @IsOptional() @Transform(toStr) @Matches(DURATION, { message: 'SESSION_TTL must be a duration such as 12h or 30m' })
  SESSION_TTL?: string;

  @IsOptional() @Transform(toStr)
  @EachEntry('SNS_TOPIC_ARNS', 'SNS topic ARNs (arn:aws:sns:<region>:<12-digit account>:<topic>)', (e) => TOPIC_ARN.test(e))
  SNS_TOPIC_ARNS?: string;

  @IsOptional() @Transform(toStr)
  @EachEntry('SNS_TRUSTED_CERT_URL_PREFIXES', 'absolute http(s) URLs without credentials', isHttpUrl)
  SNS_TRUSTED_CERT_URL_PREFIXES?: string;

  @IsOptional() @Transform(toBool) @IsBoolean({ message: 'LOCAL_WATCH must be true or false' })
  LOCAL_WATCH?: boolean;
}

export class ConfigurationError extends Error {}

/** Validates `env` and returns the typed variables; throws one error naming every bad variable. */
export function loadEnvironment(env: NodeJS.ProcessEnv): EnvironmentVariables {
  const parsed = plainToInstance(EnvironmentVariables, { ...env });
  const errors = validateSync(parsed);
  if (errors.length > 0) {
    const lines = errors.map((e) => {
      const why = [...new Set(Object.values(e.constraints ?? {}))].reverse().join('; ') || 'is invalid';
      return `  ${e.property}=${JSON.stringify(env[e.property])}: ${why}`;
    });
    throw new ConfigurationError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed;
}
