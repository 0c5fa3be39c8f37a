import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, promises as fs, readdirSync, statSync, WriteStream } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { HttpClient } from './http-client';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const DIST_MAIN = path.join(REPO_ROOT, 'dist', 'main.js');

/** One line the service wrote, parsed when it is a LOG_FORMAT=json record. */
export interface ServiceLogLine {
  /** Which start of the service wrote it (1 = first, 2 = after the restart...). */
  run: number;
  stream: 'stdout' | 'stderr';
  /** Wall-clock time the line was read (ms since epoch). */
  at: number;
  /** `error`, `warn`, `log`..., or undefined when the line is not a JSON log record. */
  level?: string;
  context?: string;
  message: string;
}

/** Newest modification time of any file under `dir` (recursively), 0 for none. */
function newestMtime(dir: string): number {
  let newest = 0;
  const walk = (d: string) => {
    for (const name of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, name.name);
      if (name.isDirectory()) walk(p);
      else newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(dir);
  return newest;
}

/**
 * Builds dist/ (`tsc -p tsconfig.build.json`, what `npm run build` runs) when dist/main.js is missing
 * or older than any file under src/, so the soak always runs the code in the tree. Returns whether it built.
 */
export function ensureBuilt(log: (line: string) => void): boolean {
  let built = 0;
  try {
    built = statSync(DIST_MAIN).mtimeMs;
  } catch {
    // missing: build
  }
  if (built > 0 && built >= newestMtime(path.join(REPO_ROOT, 'src'))) return false;
  log(built > 0 ? 'dist/ is older than src/: building' : 'dist/ is missing: building');
  const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`build failed:\n${result.stdout}${result.stderr}`);
  return true;
}

/** A free TCP port on 127.0.0.1 (kept for the service's restart, so SNS keeps one endpoint). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The built service (`node dist/main.js`) as a child process on loopback, started and stopped as
 * often as the soak needs on the same port and environment. Every line it writes is kept (parsed
 * when JSON) and appended to `logFile`.
 */
export class ServiceProcess {
  readonly lines: ServiceLogLine[] = [];
  private child?: ChildProcess;
  private exited?: Promise<number | null>;
  private runs = 0;
  private readonly logStream: WriteStream;

  constructor(
    private readonly env: Record<string, string>,
    readonly port: number,
    logFile: string,
    private readonly http: HttpClient,
    private readonly mainJs = DIST_MAIN,
  ) {
    this.logStream = createWriteStream(logFile, { flags: 'a' });
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the service and resolves once it answers HTTP (any status: /health is 503 while S3 is down). */
  async start(timeoutMs = 30_000): Promise<void> {
    if (this.running) throw new Error('the service is already running');
    const run = ++this.runs;
    // SOAK_CPU_PROF=<dir>: the service writes a V8 CPU profile per thread there when it exits.
    const profile = process.env.SOAK_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SOAK_CPU_PROF}`] : [];
    const child = spawn(process.execPath, [...profile, this.mainJs], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ...this.env, PORT: String(this.port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    for (const stream of ['stdout', 'stderr'] as const) {
      createInterface({ input: child[stream]! }).on('line', (line) => this.record(run, stream, line));
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`the service exited during start-up (run ${run}); see its log lines`);
      try {
        await this.http.request('GET', `${this.origin}/health`);
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`the service did not answer on ${this.origin} within ${timeoutMs} ms`);
        await sleep(50);
      }
    }
  }

  /** SIGKILL: no shutdown hooks, no final flush, running batches cut off wherever they are. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.exited;
    this.http.reset();
  }

  /** SIGTERM and wait: the service finishes running batches and flushes its baseline. Returns the exit code. */
  async terminate(timeoutMs = 60_000): Promise<number | null> {
    if (!this.running) return this.child?.exitCode ?? null;
    const child = this.child!;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      this.exited!,
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
    ]);
    clearTimeout(timer);
    this.http.reset();
    if (code === 'timeout') {
      child.kill('SIGKILL');
      await this.exited;
      throw new Error(`the service did not stop within ${timeoutMs} ms of SIGTERM (killed)`);
    }
    return code;
  }

  async close(): Promise<void> {
    await this.kill();
    await new Promise<void>((resolve) => this.logStream.end(resolve));
  }

  private record(run: number, stream: 'stdout' | 'stderr', text: string): void {
    const at = Date.now();
    this.logStream.write(`[run ${run} ${stream}] ${text}\n`);
    const line: ServiceLogLine = { run, stream, at, message: text };
    if (text.startsWith('{')) {
      try {
        const json = JSON.parse(text) as Record<string, unknown>;
        line.level = typeof json.level === 'string' ? json.level : undefined;
        line.context = typeof json.context === 'string' ? json.context : undefined;
        line.message = typeof json.message === 'string' ? json.message : JSON.stringify(json.message);
      } catch {
        // not JSON after all: kept as text, reviewed as an unexpected line
      }
    }
    this.lines.push(line);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function removeDir(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
}
