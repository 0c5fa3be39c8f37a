import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigurationError, durationMs, EnvironmentVariables, loadEnvironment } from './environment';

export type LogLevel = NonNullable<EnvironmentVariables['LOG_LEVEL']>;

export interface StorageConfig {
  /** S3 mode when set; local directory mode otherwise. */
  bucket?: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  dataDir: string;
}

export interface DetectionConfig {
  /** Allowlist of channel columns; empty means every numeric column. */
  channels: string[];
  entityColumn?: string;
  zThreshold: number;
  trees: number;
  seed: number;
}

export interface BaselineConfig {
  minCount: number;
  includeAnomalies: boolean;
  /** In observations (default 2,000); undefined (BASELINE_HALF_LIFE=0) means cumulative statistics. */
  halfLife?: number;
  /** A sustained episode becomes the new normal after this long (rows carrying timestamps)... */
  relearnAfterMs: number;
  /** ...or after this many rows (rows without timestamps). */
  relearnAfterRows: number;
  /** Which channels are judged against their time of day or week. */
  seasonality: 'auto' | 'off' | 'daily' | 'weekly';
  /** IANA zone of the daily and weekly slots. */
  timezone: string;
  /** Bounds on what is learned (a batch beyond is refused). */
  maxChannels: number;
  maxEntities: number;
  flushIntervalMs: number;
  localPath: string;
}

export interface IngestionConfig {
  rawPrefix: string;
  rawSuffix: string;
  verifySignatures: boolean;
  topicArns: string[];
  /** Extra certificate URL prefixes to trust besides SNS's own hosts (tests only). */
  trustedCertUrlPrefixes: string[];
  localWatch: boolean;
}

export interface AuthConfig {
  /** AUTH=off switches credentials off even where they would be required. */
  enabled: boolean;
  /** SHA-256 digests (hex) of the accepted API tokens. */
  tokenHashes: string[];
  sessionTtlMs: number;
  /** Whether a request must carry a credential: tokens are configured, or the service listens beyond loopback. */
  required: boolean;
}

/** Addresses only this machine reaches. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export interface ProcessingConfig {
  concurrency: number;
  maxAttempts: number;
  /** Batch worker threads; 0 scores on the service's own thread. */
  workers: number;
}

const list = (v?: string) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * The service's configuration, one typed object per area, built once at boot from the environment.
 * Injected everywhere as this class (it is its own DI token).
 */
export class AppConfig {
  readonly port: number;
  readonly host: string;
  readonly logLevel: LogLevel;
  readonly logFormat: 'text' | 'json';
  readonly storage: StorageConfig;
  readonly detection: DetectionConfig;
  readonly baseline: BaselineConfig;
  readonly ingestion: IngestionConfig;
  readonly processing: ProcessingConfig;
  readonly auth: AuthConfig;

  constructor(env: EnvironmentVariables) {
    this.port = env.PORT ?? 8000;
    // Loopback by default: the local two-command run needs no credential, and nothing else reaches it.
    this.host = env.HOST ?? '127.0.0.1';
    const tokenHashes = list(env.API_TOKEN_SHA256).map((h) => h.toLowerCase());
    const enabled = (env.AUTH ?? 'on') === 'on';
    this.auth = {
      enabled,
      tokenHashes,
      sessionTtlMs: durationMs(env.SESSION_TTL ?? '12h'),
      required: enabled && (tokenHashes.length > 0 || !isLoopback(this.host)),
    };
    if (this.auth.required && tokenHashes.length === 0) {
      throw new ConfigurationError(
        `HOST=${this.host} is reachable from other machines, and no credential is configured: set API_TOKEN_SHA256 ` +
          '(the SHA-256 of a token: printf %s "$TOKEN" | sha256sum), listen on 127.0.0.1, or set AUTH=off to serve everyone',
      );
    }
    this.logLevel = env.LOG_LEVEL ?? 'log';
    this.logFormat = env.LOG_FORMAT ?? 'text';
    const dataDir = path.resolve(env.DATA_DIR ?? './data');
    this.storage = {
      bucket: env.BUCKET_NAME,
      region: env.AWS_REGION ?? 'us-east-1',
      endpoint: env.S3_ENDPOINT,
      forcePathStyle: env.S3_FORCE_PATH_STYLE ?? Boolean(env.S3_ENDPOINT),
      dataDir,
    };
    this.detection = {
      channels: list(env.CHANNELS),
      entityColumn: env.ENTITY_COLUMN,
      zThreshold: env.Z_THRESHOLD ?? 3,
      trees: env.IF_TREES ?? 100,
      seed: env.RANDOM_SEED ?? 42,
    };
    this.baseline = {
      minCount: env.BASELINE_MIN_COUNT ?? 30,
      includeAnomalies: env.BASELINE_INCLUDE_ANOMALIES ?? false,
      // Forgetting by default: real sources drift, and a cumulative baseline lags them ever more.
      halfLife: env.BASELINE_HALF_LIFE === 0 ? undefined : (env.BASELINE_HALF_LIFE ?? 2000),
      relearnAfterMs: durationMs(env.BASELINE_RELEARN_AFTER ?? '2h'),
      relearnAfterRows: env.BASELINE_RELEARN_ROWS ?? 1000,
      seasonality: env.SEASONALITY ?? 'auto',
      timezone: env.TIMEZONE ?? 'UTC',
      maxChannels: env.BASELINE_MAX_CHANNELS ?? 1000,
      maxEntities: env.BASELINE_MAX_ENTITIES ?? 100_000,
      flushIntervalMs: (env.BASELINE_FLUSH_INTERVAL ?? 30) * 1000,
      localPath: path.resolve(env.BASELINE_LOCAL_PATH ?? 'baseline.json'),
    };
    this.ingestion = {
      rawPrefix: env.RAW_PREFIX ?? 'raw/',
      rawSuffix: env.RAW_SUFFIX ?? '.csv',
      verifySignatures: env.SNS_VERIFY_SIGNATURES ?? true,
      topicArns: list(env.SNS_TOPIC_ARNS),
      trustedCertUrlPrefixes: list(env.SNS_TRUSTED_CERT_URL_PREFIXES),
      localWatch: env.LOCAL_WATCH ?? !env.BUCKET_NAME,
    };
    this.processing = {
      // A small batch spends most of its time waiting (storage round trips, the grouped local
      // baseline write, a new window's forest): 16 in flight keep the threads busy (BENCHMARKS.md).
      concurrency: env.PROCESS_CONCURRENCY ?? 16,
      maxAttempts: env.PROCESS_MAX_ATTEMPTS ?? 8,
      // Scoring and storage calls off the HTTP thread, leaving it a core of its own.
      workers: env.PROCESS_WORKERS ?? Math.min(4, Math.max(1, os.availableParallelism() - 1)),
    };
  }

  static fromEnv(env: NodeJS.ProcessEnv = process.env): AppConfig {
    return new AppConfig(loadEnvironment(env));
  }

  /** A config for tests and scripts: defaults plus the given variables, validated like at boot. */
  static forTest(overrides: Record<string, string | undefined> = {}): AppConfig {
    // Batches are scored on the test's own thread unless a test asks for workers: tests wrap the
    // injected store to inject faults, and a worker thread builds a store of its own.
    return AppConfig.fromEnv({ PROCESS_WORKERS: '0', ...overrides } as NodeJS.ProcessEnv);
  }
}
