import { ConsoleLogger, INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/app.setup';
import { AppConfig } from '../../src/config/app-config';
import { MetricsService } from '../../src/metrics/metrics.service';
import { waitFor } from '../support/wait-for';

/** Records what would be logged at error level. */
class RecordingLogger extends ConsoleLogger {
  readonly errors: string[] = [];
  override error(message: unknown, ...rest: unknown[]): void {
    this.errors.push(String(message));
    void rest;
  }
}

describe('a client that hangs up mid-body', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'aborted-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is one debug line and a metric, not an error with a stack', async () => {
    const config = AppConfig.forTest({ DATA_DIR: dir, BASELINE_LOCAL_PATH: path.join(dir, 'baseline.json'), LOCAL_WATCH: 'false' });
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
    const logger = new RecordingLogger();
    const app: INestApplication = moduleRef.createNestApplication({ logger });
    configureApp(app);
    await app.listen(0, '127.0.0.1');
    try {
      const port = (app.getHttpServer().address() as net.AddressInfo).port;
      for (let i = 0; i < 20; i++) {
        await new Promise<void>((resolve) => {
          const s = net.connect(port, '127.0.0.1', () => {
            s.write('POST /notify HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n' + 'a'.repeat(1000), () => {
              s.destroy();
              resolve();
            });
          });
        });
      }
      const metrics = app.get(MetricsService);
      await waitFor('20 aborted requests counted', async () => (await metrics.abortedRequests.get()).values[0]?.value === 20);
      expect(logger.errors).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
