// Runs fauxqs (an S3 API emulator) in its own process for the test harness. fauxqs is ESM-only
// and needs Node >= 22.5, so it lives outside jest's module system. Prints one JSON line when ready.
import './fauxqs-listing-order.mjs';
import { startFauxqs } from 'fauxqs';

const port = Number(process.env.S3_TEST_PORT ?? 0);
const buckets = (process.env.S3_TEST_BUCKETS ?? '').split(',').filter(Boolean);
const storageDir = process.env.S3_TEST_STORAGE_DIR || undefined;

const server = await startFauxqs({ port, host: '127.0.0.1', logger: false, s3StorageDir: storageDir });
for (const bucket of buckets) server.createBucket(bucket);
process.stdout.write(JSON.stringify({ port: server.port, address: server.address }) + '\n');

const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
