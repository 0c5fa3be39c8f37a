/**
 * Who gets in, against the real service listening beyond loopback with an API token configured.
 */
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/app.setup';
import { sha256Hex } from '../../src/auth/credentials';
import { AppConfig } from '../../src/config/app-config';
import { ConfigurationError } from '../../src/config/environment';

const TOKEN = 'correct-horse-battery-staple';

describe('authentication', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'auth-'));
  let app: INestApplication;
  const http = () => request(app.getHttpServer());
  const bearer = { Authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    const config = AppConfig.forTest({
      HOST: '0.0.0.0',
      API_TOKEN_SHA256: sha256Hex(TOKEN),
      DATA_DIR: dir,
      BASELINE_LOCAL_PATH: path.join(dir, 'baseline.json'),
      LOCAL_WATCH: 'false',
    });
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
    app = moduleRef.createNestApplication({ logger: ['error'] });
    configureApp(app);
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to start beyond loopback without a credential, unless told to serve everyone', () => {
    expect(() => AppConfig.forTest({ HOST: '0.0.0.0' })).toThrow(ConfigurationError);
    expect(() => AppConfig.forTest({ HOST: '0.0.0.0' })).toThrow(/HOST=0\.0\.0\.0 is reachable from other machines, and no credential is configured: set API_TOKEN_SHA256/);
    expect(AppConfig.forTest({ HOST: '0.0.0.0', AUTH: 'off' }).auth.required).toBe(false);
    expect(AppConfig.forTest({}).auth).toMatchObject({ required: false, enabled: true });
    expect(AppConfig.forTest({}).host).toBe('127.0.0.1');
    expect(() => AppConfig.forTest({ API_TOKEN_SHA256: 'abc' })).toThrow(/API_TOKEN_SHA256 must be a comma-separated list of SHA-256 digests/);
  });

  it('answers every read only with a credential, and says how to get one', async () => {
    for (const url of ['/anomalies/summary', '/anomalies/recent', '/baseline/current', '/batches/recent', '/batches/file?key=raw/x.csv', '/feedback', '/metrics', '/docs-json', '/docs']) {
      const res = await http().get(url).expect(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.body.message).toMatch(/a credential is required/);
      expect(JSON.stringify(res.body)).not.toMatch(/\/tmp|node_modules|at .*\.ts/);
    }
    await http().get('/anomalies/summary').set(bearer).expect(200);
    await http().get('/docs-json').set(bearer).expect(200);
    await http().post('/feedback').send({ verdict: 'ignore' }).expect(401);
  });

  it('leaves /notify to its signature check and /health bare', async () => {
    const notify = await http().post('/notify').set('content-type', 'text/plain').send('{}');
    expect(notify.status).not.toBe(401);
    const bare = await http().get('/health').expect(200);
    expect(Object.keys(bare.body).sort()).toEqual(['status', 'storage', 'timestamp']);
    const full = await http().get('/health').set(bearer).expect(200);
    expect(full.body.bucket).toBe(`file://${dir}`);
  });

  it('serves the pages with security headers: a CSP that allows only their own inline code, never framed', async () => {
    const page = await http().get('/').expect(200);
    expect(page.headers['x-powered-by']).toBeUndefined();
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['content-security-policy']).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'; style-src 'sha256-/);
    expect(page.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(page.text).not.toMatch(/ style="| on[a-z]+="/);
    const api = await http().get('/health');
    expect(api.headers['content-security-policy']).toBe("frame-ancestors 'none'");
  });

  it('logs the dashboard in with the token: an HttpOnly, SameSite=Strict session cookie, and out again', async () => {
    expect((await http().get('/login').expect(200)).text).toMatch(/name="token" type="password"/);
    const login = await http().post('/login').type('form').send({ token: TOKEN }).expect(303);
    expect(login.headers.location).toBe('/');
    const cookie = [login.headers['set-cookie']].flat()[0] as string;
    expect(cookie).toMatch(/^ap_session=[\w-]{40,}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    const session = cookie.split(';')[0];
    await http().get('/baseline/current').set('Cookie', session).expect(200);
    await http().post('/logout').set('Cookie', session).expect(303);
    await http().get('/baseline/current').set('Cookie', session).expect(401);
  });

  it('documents the scheme on every protected operation, with its 401', async () => {
    const doc = (await http().get('/docs-json').set(bearer).expect(200)).body as { paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>; components: { securitySchemes: Record<string, unknown> } };
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['session', 'token']);
    for (const [route, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const open = (route === '/notify' && method === 'post') || route === '/health' || route === '/' || route === '/dashboard';
        if (open) expect(op.security).toBeUndefined();
        else {
          expect({ route, method, security: op.security }).toEqual({ route, method, security: expect.arrayContaining([{ token: [] }, { session: [] }]) });
          expect(op.responses['401']).toBeDefined();
        }
      }
    }
  });

  it('refuses an address that keeps failing, for a while, even with the right token', async () => {
    // Ten failures a minute are allowed (one was made above, with the closed session).
    let tries = 0;
    let status = 401;
    while (status === 401 && tries < 12) {
      status = (await http().get('/baseline/current').set('Authorization', 'Bearer wrong')).status;
      tries++;
    }
    expect({ status, tries }).toEqual({ status: 429, tries: 10 });
    const refused = await http().get('/baseline/current').set(bearer).expect(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.body.message).toMatch(/too many failed attempts/);
    await http().post('/login').type('form').send({ token: TOKEN }).expect(429);
  });
});
