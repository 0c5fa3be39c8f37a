import * as http from 'node:http';

export interface HttpAnswer {
  status: number;
  body: string;
}

/**
 * A tiny HTTP/1.1 client for loopback: keep-alive sockets (a soak posts thousands of requests), a
 * timeout per request, and connection errors as rejections (the caller decides whether to retry).
 */
export class HttpClient {
  private agent = newAgent();

  constructor(private readonly timeoutMs = 10_000) {}

  request(method: string, url: string, body?: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        url,
        {
          method,
          agent: this.agent,
          headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  async getJson<T>(url: string): Promise<T> {
    const answer = await this.request('GET', url);
    if (answer.status !== 200) throw new Error(`GET ${url}: HTTP ${answer.status} ${answer.body.slice(0, 200)}`);
    return JSON.parse(answer.body) as T;
  }

  /** Drops idle keep-alive sockets, e.g. those to a process that was just killed. */
  reset(): void {
    this.agent.destroy();
    this.agent = newAgent();
  }

  close(): void {
    this.agent.destroy();
  }
}

function newAgent(): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: 32 });
}
