import * as net from 'node:net';
import { S3Store } from '../../src/storage/s3.store';
import { StorageError } from '../../src/storage/object-store';
import { S3TestServer } from '../support/s3-test-server';
import { objectStoreContract } from './object-store.contract';

const server = new S3TestServer({ buckets: Array.from({ length: 20 }, (_, i) => `contract-${i}`) });
const stores: S3Store[] = [];
let nextBucket = 0;

beforeAll(() => server.start());
afterAll(async () => {
  stores.forEach((s) => s.destroy());
  await server.stop();
});

function storeFor(bucket: string): S3Store {
  const store = new S3Store({ bucket, region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true, maxAttempts: 2 });
  stores.push(store);
  return store;
}

// Each test gets a bucket of its own, so tests see an empty bucket without deleting anything.
objectStoreContract('S3 through the AWS SDK against a loopback S3 server', async () => storeFor(`contract-${nextBucket++}`));

describe('S3Store errors', () => {
  it('surfaces a permanent error with the key in the message, not a raw SDK exception', async () => {
    const store = storeFor('no-such-bucket-here');
    await expect(store.put('raw/x.csv', 'x')).rejects.toThrow(StorageError);
    await expect(store.put('raw/x.csv', 'x')).rejects.toThrow(/"raw\/x.csv"/);
    await expect(store.ping()).rejects.toThrow(StorageError);
  });

  it('gives up on a server that accepts the connection and then says nothing, with a StorageError', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket)); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    const endpoint = `http://127.0.0.1:${port}`;
    const store = new S3Store({ bucket: 'b', region: 'us-east-1', endpoint, forcePathStyle: true, maxAttempts: 2, idleTimeoutMs: 300, bodyIdleTimeoutMs: 600 });
    stores.push(store);
    try {
      const started = Date.now();
      await expect(store.head('raw/x.csv')).rejects.toThrow(StorageError);
      await expect(store.put('processed/x.csv', 'x')).rejects.toThrow(/timed out/);
      await expect(store.getText('raw/x.csv')).rejects.toThrow(StorageError);
      await expect(store.open('raw/x.csv')).rejects.toThrow(/timed out/);
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('reports an unreachable server as a StorageError after the SDK retries', async () => {
    const store = new S3Store({ bucket: 'b', region: 'us-east-1', endpoint: 'http://127.0.0.1:9', forcePathStyle: true, maxAttempts: 2 });
    stores.push(store);
    await expect(store.getText('state/baseline.json')).rejects.toThrow(/state\/baseline.json/);
  });
});
