import * as path from 'node:path';
import { DynamicModule, Module, ModuleMetadata, Type } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { BatchSink } from './batch-sink';
import { LocalRawWatcher, LocalRawWatcherOptions } from './local-raw.watcher';
import { NotifyController } from './notify.controller';
import { NotifyService } from './notify.service';
import { SigningCertCache } from './signing-cert.cache';
import { SnsSignatureVerifier } from './sns-signature.verifier';
import { SnsUrlPolicy } from './sns-url.policy';
import { SubscriptionConfirmer } from './subscription.confirmer';

export interface IngestionModuleOptions {
  /** Modules that provide the sink (e.g. ProcessingModule). */
  imports?: ModuleMetadata['imports'];
  /** What BatchSink resolves to: an existing provider (the processing service) or a value (tests). */
  sink: { useExisting: Type<unknown> } | { useValue: BatchSink };
}

/**
 * SNS ingestion (POST /notify) and, in local mode, the raw/ directory watcher. Both hand objects to
 * a BatchSink, which the caller binds: `IngestionModule.register({ imports: [ProcessingModule],
 * sink: { useExisting: ProcessingService } })`.
 */
@Module({})
export class IngestionModule {
  static register(options: IngestionModuleOptions): DynamicModule {
    return {
      module: IngestionModule,
      imports: options.imports ?? [],
      controllers: [NotifyController],
      providers: [
        { provide: BatchSink, ...options.sink },
        {
          provide: SnsUrlPolicy,
          useFactory: (config: AppConfig) => new SnsUrlPolicy(config.ingestion.trustedCertUrlPrefixes),
          inject: [AppConfig],
        },
        {
          provide: SigningCertCache,
          // Kept beside the local baseline copy: after a restart, SNS's certificates need no fetch.
          useFactory: (config: AppConfig) => new SigningCertCache({ persistPath: path.join(path.dirname(config.baseline.localPath), 'sns-certificates.json') }),
          inject: [AppConfig],
        },
        {
          provide: SnsSignatureVerifier,
          useFactory: (policy: SnsUrlPolicy, certs: SigningCertCache) => new SnsSignatureVerifier({ policy, certs }),
          inject: [SnsUrlPolicy, SigningCertCache],
        },
        {
          provide: SubscriptionConfirmer,
          useFactory: (policy: SnsUrlPolicy) => new SubscriptionConfirmer(policy),
          inject: [SnsUrlPolicy],
        },
        NotifyService,
        LocalRawWatcherOptions,
        LocalRawWatcher,
      ],
      exports: [NotifyService, LocalRawWatcher],
    };
  }
}
