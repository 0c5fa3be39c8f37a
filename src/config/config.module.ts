import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from './app-config';

/** Provides the one AppConfig to every module. `forRoot(config)` lets tests boot with their own. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config?: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: AppConfig, useFactory: () => config ?? AppConfig.fromEnv() }],
      exports: [AppConfig],
    };
  }
}
