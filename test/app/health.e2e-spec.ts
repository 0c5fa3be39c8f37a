import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { configureApp } from '../../src/app.setup';
import { AppConfig } from '../../src/config/app-config';
import { ConfigModule } from '../../src/config/config.module';
import { HealthModule } from '../../src/health/health.module';
import { StorageModule } from '../../src/storage/storage.module';
import { S3TestServer } from '../support/s3-test-server';

async function boot(config: AppConfig): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [ConfigModule.forRoot(config), StorageModule, HealthModule],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  configureApp(app);
  await app.init();
  return app;
}

describe('/health and /docs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'health-'));
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('answers 200 on the local default and documents itself in OpenAPI 3', async () => {
    const app = await boot(AppConfig.forTest({ DATA_DIR: dir }));
    try {
      const res = await request(app.getHttpServer()).get('/health').expect(200);
      expect(res.body).toMatchObject({ status: 'ok', storage: 'ok', bucket: `file://${dir}` });
      expect(new Date(res.body.timestamp).toString()).not.toBe('Invalid Date');

      const doc = await request(app.getHttpServer()).get('/docs-json').expect(200);
      expect(doc.body.openapi).toMatch(/^3\./);
      expect(doc.body.info).toMatchObject({ title: 'anomaly-pipeline', version: expect.any(String) });
      expect(doc.body.paths['/health'].get.responses['200'].content['application/json'].schema.$ref).toBe(
        '#/components/schemas/HealthDto',
      );
      expect(doc.body.components.schemas.HealthDto.required).toEqual(
        expect.arrayContaining(['status', 'storage', 'timestamp']),
      );
      await request(app.getHttpServer()).get('/docs').expect(200).expect(/swagger/i);
    } finally {
      await app.close();
    }
  });

  it('answers 200 against an S3 server, and 503 with the reason when it stops answering', async () => {
    const server = await new S3TestServer({ buckets: ['health-bucket'] }).start();
    const app = await boot(
      AppConfig.forTest({ BUCKET_NAME: 'health-bucket', S3_ENDPOINT: server.endpoint }),
    );
    try {
      const ok = await request(app.getHttpServer()).get('/health').expect(200);
      expect(ok.body).toMatchObject({ status: 'ok', storage: 'ok', bucket: 's3://health-bucket' });
      await server.stop();
      const down = await request(app.getHttpServer()).get('/health').expect(503);
      expect(down.body).toMatchObject({ status: 'unavailable', storage: 'unavailable' });
      expect(down.body.reason).toMatch(/health-bucket/);
    } finally {
      await app.close();
      await server.stop();
    }
  });
});
