import type { StorageConfig } from '../config/app-config';
import { LocalDirectoryStore } from './local-directory.store';
import { ObjectStore } from './object-store';
import { S3Store } from './s3.store';

/**
 * The store the configuration names: the S3 bucket when BUCKET_NAME is set, the local directory
 * otherwise. Free of Nest, so that a batch worker thread builds its own with the same rules.
 */
export function objectStoreFor(storage: StorageConfig): ObjectStore {
  const { bucket, region, endpoint, forcePathStyle, dataDir } = storage;
  return bucket ? new S3Store({ bucket, region, endpoint, forcePathStyle }) : new LocalDirectoryStore(dataDir);
}
