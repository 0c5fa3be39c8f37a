import { Global, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { AppConfig } from '../config/app-config';
import { ObjectStore } from './object-store';
import { objectStoreFor } from './object-store.factory';
import { S3Store } from './s3.store';

export function createObjectStore(config: AppConfig): ObjectStore {
  const { bucket, region, endpoint, dataDir } = config.storage;
  const logger = new Logger('Storage');
  if (bucket) logger.log(`Using S3 bucket ${bucket}${endpoint ? ` at ${endpoint}` : ''} (region ${region})`);
  else logger.log(`No BUCKET_NAME set: using the local directory ${dataDir} as the bucket`);
  return objectStoreFor(config.storage);
}

@Global()
@Module({
  providers: [{ provide: ObjectStore, useFactory: createObjectStore, inject: [AppConfig] }],
  exports: [ObjectStore],
})
export class StorageModule implements OnApplicationShutdown {
  constructor(private readonly moduleRef: ModuleRef) {}

  onApplicationShutdown(): void {
    const store = this.moduleRef.get(ObjectStore, { strict: false });
    if (store instanceof S3Store) store.destroy();
  }
}
