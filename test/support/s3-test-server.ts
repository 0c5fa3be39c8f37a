import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

export interface S3TestServerOptions {
  buckets?: string[];
  /** Keep objects on disk so the server can be stopped and started again on the same data. */
  storageDir?: string;
  /** Fixed port, e.g. to restart on the same address; 0 picks a free one. */
  port?: number;
}

/**
 * A real S3 API server on loopback (fauxqs) in a child process, started and stopped by the tests
 * themselves. Clients talk to it through the real AWS SDK with path-style addressing.
 */
export class S3TestServer {
  private child?: ChildProcess;
  port = 0;

  constructor(private readonly options: S3TestServerOptions = {}) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const script = path.join(__dirname, 's3-server.mjs');
    const child = spawn(process.execPath, [script], {
      env: {
        ...process.env,
        S3_TEST_PORT: String(this.options.port ?? this.port ?? 0),
        S3_TEST_BUCKETS: (this.options.buckets ?? []).join(','),
        S3_TEST_STORAGE_DIR: this.options.storageDir ?? '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const ready = await new Promise<{ port: number }>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      const timer = setTimeout(() => reject(new Error(`S3 test server did not start: ${stderr}`)), 20000);
      lines.once('line', (line) => {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(line));
        } catch {
          reject(new Error(`S3 test server said: ${line} ${stderr}`));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`S3 test server exited with ${code}: ${stderr}`));
      });
    });
    this.port = ready.port;
    return this;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    this.child = undefined;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
