import * as os from 'node:os';
import { AppConfig } from './app-config';
import { ConfigurationError } from './environment';

describe('AppConfig', () => {
  it('has sensible defaults: local mode on ./data, port 8000 on loopback, no credential needed there', () => {
    const c = AppConfig.forTest({});
    expect(c.storage.bucket).toBeUndefined();
    expect(c.storage.dataDir).toMatch(/data$/);
    expect(c.port).toBe(8000);
    expect(c.host).toBe('127.0.0.1');
    expect(c.auth).toMatchObject({ enabled: true, required: false, tokenHashes: [] });
    expect(c.detection.zThreshold).toBe(3);
    expect(c.baseline).toMatchObject({ minCount: 30, includeAnomalies: false, halfLife: 2000, relearnAfterMs: 7_200_000, relearnAfterRows: 1000, flushIntervalMs: 30000 });
    expect(AppConfig.forTest({ BASELINE_HALF_LIFE: '0' }).baseline.halfLife).toBeUndefined();
    expect(c.baseline).toMatchObject({ seasonality: 'auto', timezone: 'UTC' });
    expect(AppConfig.forTest({ SEASONALITY: 'weekly', TIMEZONE: 'Asia/Kolkata' }).baseline).toMatchObject({ seasonality: 'weekly', timezone: 'Asia/Kolkata' });
    expect(c.ingestion).toMatchObject({ rawPrefix: 'raw/', rawSuffix: '.csv', verifySignatures: true, localWatch: true });
  });

  it('reads S3 settings; an endpoint implies path-style addressing unless told otherwise', () => {
    const c = AppConfig.forTest({ BUCKET_NAME: 'my-bucket', S3_ENDPOINT: 'http://127.0.0.1:9000', AWS_REGION: 'eu-west-1' });
    expect(c.storage).toMatchObject({ bucket: 'my-bucket', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, region: 'eu-west-1' });
    expect(c.ingestion.localWatch).toBe(false);
    expect(AppConfig.forTest({ S3_ENDPOINT: 'http://x:1', S3_FORCE_PATH_STYLE: 'false' }).storage.forcePathStyle).toBe(false);
  });

  it('runs batch worker threads by default (cores - 1, 1 to 4); tests score on their own thread unless they ask', () => {
    const cores = os.availableParallelism();
    expect(AppConfig.fromEnv({}).processing).toMatchObject({ concurrency: 16, workers: Math.min(4, Math.max(1, cores - 1)) });
    expect(AppConfig.forTest({}).processing.workers).toBe(0);
    expect(AppConfig.forTest({ PROCESS_WORKERS: '3' }).processing.workers).toBe(3);
  });

  it('parses lists and booleans', () => {
    const c = AppConfig.forTest({ CHANNELS: 'temperature, humidity ,', SNS_VERIFY_SIGNATURES: 'no', BASELINE_HALF_LIFE: '5000' });
    expect(c.detection.channels).toEqual(['temperature', 'humidity']);
    expect(c.ingestion.verifySignatures).toBe(false);
    expect(c.baseline.halfLife).toBe(5000);
  });

  it.each([
    ['PORT', 'eighty', /PORT=.*"eighty".*integer/],
    ['PORT', '70000', /PORT/],
    ['Z_THRESHOLD', '-1', /Z_THRESHOLD.*> 0/],
    ['BUCKET_NAME', 'Not_A_Bucket', /BUCKET_NAME.*bucket name/],
    ['S3_ENDPOINT', 'localhost:9000', /S3_ENDPOINT.*URL/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL must be one of/],
    ['BASELINE_INCLUDE_ANOMALIES', 'maybe', /BASELINE_INCLUDE_ANOMALIES must be true or false/],
    ['PROCESS_CONCURRENCY', '0', /PROCESS_CONCURRENCY/],
    ['PROCESS_WORKERS', '17', /PROCESS_WORKERS must not be greater than 16/],
    ['PROCESS_WORKERS', 'two', /PROCESS_WORKERS/],
    ['BASELINE_RELEARN_AFTER', '2 hours', /BASELINE_RELEARN_AFTER must be a duration such as 90m, 2h or 3600s/],
    ['BASELINE_RELEARN_AFTER', '120', /BASELINE_RELEARN_AFTER must be a duration/],
    ['BASELINE_RELEARN_ROWS', '0', /BASELINE_RELEARN_ROWS must be an integer >= 1/],
    ['SEASONALITY', 'hourly', /SEASONALITY must be auto, off, daily or weekly/],
    ['TIMEZONE', 'Mars/Olympus', /TIMEZONE must be an IANA time zone such as UTC, Europe\/Paris or America\/New_York; not one: "Mars\/Olympus"/],
  ])('refuses %s=%s with a message naming the variable', (name, value, message) => {
    expect(() => AppConfig.forTest({ [name]: value })).toThrow(ConfigurationError);
    expect(() => AppConfig.forTest({ [name]: value })).toThrow(message);
  });

  it('reads SNS topic ARNs in every partition, and trusted certificate URL prefixes', () => {
    const arns = [
      'arn:aws:sns:eu-west-1:123456789012:anomaly-raw-uploads',
      'arn:aws-cn:sns:cn-north-1:123456789012:t_1',
      'arn:aws-us-gov:sns:us-gov-west-1:123456789012:orders.fifo',
    ];
    const c = AppConfig.forTest({ SNS_TOPIC_ARNS: ` ${arns.join(' , ')},`, SNS_TRUSTED_CERT_URL_PREFIXES: 'http://127.0.0.1:4000/certs/, https://certs.test/' });
    expect(c.ingestion.topicArns).toEqual(arns);
    expect(c.ingestion.trustedCertUrlPrefixes).toEqual(['http://127.0.0.1:4000/certs/', 'https://certs.test/']);
  });

  it.each([
    ['a topic name instead of an ARN', 'anomaly-raw-uploads'],
    ['an SQS queue ARN', 'arn:aws:sqs:eu-west-1:123456789012:queue'],
    ['a short account id', 'arn:aws:sns:eu-west-1:12345:topic'],
    ['a typo in the partition', 'arn:aws-gov:sns:us-gov-west-1:123456789012:topic'],
    ['no region', 'arn:aws:sns::123456789012:topic'],
    ['a subscription ARN', 'arn:aws:sns:eu-west-1:123456789012:topic:5f2b6c1e-0000-4000-8000-000000000000'],
    ['a space inside the name', 'arn:aws:sns:eu-west-1:123456789012:my topic'],
  ])('refuses SNS_TOPIC_ARNS with %s, naming the variable and the entry', (_why, bad) => {
    const good = 'arn:aws:sns:eu-west-1:123456789012:ok';
    const build = () => AppConfig.forTest({ SNS_TOPIC_ARNS: `${good},${bad}` });
    expect(build).toThrow(ConfigurationError);
    expect(build).toThrow(/SNS_TOPIC_ARNS=.*must be a comma-separated list of SNS topic ARNs/);
    expect(build).toThrow(`not one: ${JSON.stringify(bad)}`);
  });

  it.each([
    ['not a URL', 'not a url'],
    ['a relative path', '/sns-certs/'],
    ['no scheme', '127.0.0.1:4000/certs/'],
    ['another scheme', 'file:///etc/ssl/'],
    ['credentials', 'http://user:pw@127.0.0.1:4000/'],
  ])('refuses SNS_TRUSTED_CERT_URL_PREFIXES with %s at validation, not later with a TypeError', (_why, bad) => {
    const build = () => AppConfig.forTest({ SNS_TRUSTED_CERT_URL_PREFIXES: `http://127.0.0.1:4000/ok/,${bad}` });
    expect(build).toThrow(ConfigurationError);
    expect(build).toThrow(/SNS_TRUSTED_CERT_URL_PREFIXES=.*absolute http\(s\) URLs/);
    expect(build).toThrow(`not one: ${JSON.stringify(bad)}`);
  });

  it('names every bad variable at once', () => {
    expect(() => AppConfig.forTest({ PORT: 'x', Z_THRESHOLD: 'y' })).toThrow(/PORT[\s\S]*Z_THRESHOLD|Z_THRESHOLD[\s\S]*PORT/);
  });
});
