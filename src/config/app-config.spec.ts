import { AppConfig } from './app-config';
import { ConfigurationError } from './environment';

describe('AppConfig', () => {
  it('has sensible defaults: local mode on ./data, port 8000 on all interfaces', () => {
    const c = AppConfig.forTest({});
    expect(c.storage.bucket).toBeUndefined();
    expect(c.storage.dataDir).toMatch(/data$/);
    expect(c.port).toBe(8000);
    expect(c.host).toBe('0.0.0.0');
    expect(c.detection.zThreshold).toBe(3);
    expect(c.baseline).toMatchObject({ minCount: 30, includeAnomalies: false, flushIntervalMs: 30000 });
    expect(c.ingestion).toMatchObject({ rawPrefix: 'raw/', rawSuffix: '.csv', verifySignatures: true, localWatch: true });
  });

  it('reads S3 settings; an endpoint implies path-style addressing unless told otherwise', () => {
    const c = AppConfig.forTest({ BUCKET_NAME: 'my-bucket', S3_ENDPOINT: 'http://127.0.0.1:9000', AWS_REGION: 'eu-west-1' });
    expect(c.storage).toMatchObject({ bucket: 'my-bucket', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, region: 'eu-west-1' });
    expect(c.ingestion.localWatch).toBe(false);
    expect(AppConfig.forTest({ S3_ENDPOINT: 'http://x:1', S3_FORCE_PATH_STYLE: 'false' }).storage.forcePathStyle).toBe(false);
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
  ])('refuses %s=%s with a message naming the variable', (name, value, message) => {
    expect(() => AppConfig.forTest({ [name]: value })).toThrow(ConfigurationError);
    expect(() => AppConfig.forTest({ [name]: value })).toThrow(message);
  });

  it('names every bad variable at once', () => {
    expect(() => AppConfig.forTest({ PORT: 'x', Z_THRESHOLD: 'y' })).toThrow(/PORT[\s\S]*Z_THRESHOLD|Z_THRESHOLD[\s\S]*PORT/);
  });
});
