import 'reflect-metadata';
import { ConsoleLogger, Logger, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { AppConfig } from './config/app-config';
import { BaselineLoadError } from './baseline/baseline.errors';
import { ConfigurationError, LOG_LEVELS } from './config/environment';

async function bootstrap(): Promise<void> {
  let config: AppConfig;
  try {
    config = AppConfig.fromEnv();
  } catch (err) {
    if (err instanceof ConfigurationError) {
      process.stderr.write(`${err.message}\nSee the configuration table in README.md.\n`);
      process.exit(78); // EX_CONFIG: systemd's Restart=on-failure will not help, so say why and stop
    }
    throw err;
  }
  const levels = LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(config.logLevel) + 1) as LogLevel[];
  const logger = new ConsoleLogger({ timestamp: true, logLevels: levels, json: config.logFormat === 'json' });
  let app;
  try {
    app = await NestFactory.create(AppModule.forRoot(config), { logger, bufferLogs: true, abortOnError: false });
  } catch (err) {
    if (err instanceof BaselineLoadError) {
      // A corrupt stored baseline needs a person, not a restart loop (78, which the systemd unit
      // does not restart); storage that did not answer is worth another try (75, restarted).
      logger.fatal(err.message, 'Bootstrap');
      process.exit(err.transient ? 75 : 78);
    }
    throw err;
  }
  configureApp(app);
  try {
    await app.listen(config.port, config.host);
  } catch (err) {
    // The baseline is loaded while the app initialises, which listen() starts: the same exit codes.
    if (err instanceof BaselineLoadError) {
      logger.fatal(err.message, 'Bootstrap');
      process.exit(err.transient ? 75 : 78);
    }
    throw err;
  }
  const log = new Logger('Bootstrap');
  log.log(`Listening on http://${config.host}:${config.port}: dashboard at /, Swagger UI at /docs`);
  if (!config.storage.bucket) {
    log.log(`Local mode: CSV batches dropped into ${config.storage.dataDir}/raw/ are scored (try: npm run producer -- --interval 5)`);
  }
}

void bootstrap();
