import { INestApplication, ValidationPipe } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import { StorageErrorFilter } from './storage/storage-error.filter';
import { MetricsService } from './metrics/metrics.service';
import { RequestAbortedFilter } from './request-aborted.filter';
import * as path from 'node:path';
import type { NextFunction, Request, Response } from 'express';
import { AuthService } from './auth/auth.service';
import { BEARER_SCHEME, SESSION_COOKIE, SESSION_SCHEME } from './auth/public.decorator';

const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  description: string;
};

/** Everything main.ts does to the app besides listening, shared with the end-to-end tests. */
export function configureApp(app: INestApplication): void {
  const express = app as NestExpressApplication;
  // SNS posts JSON as text/plain; its messages are at most 256 KB.
  express.useBodyParser('json', { limit: '256kb' });
  express.useBodyParser('text', { type: 'text/plain', limit: '256kb' });
  app.useGlobalPipes(new ValidationPipe({ transform: true, whitelist: true }));
  app.useGlobalFilters(new RequestAbortedFilter(app.getHttpAdapter(), optional(app, MetricsService)), new StorageErrorFilter());
  app.enableShutdownHooks();

  express.disable('x-powered-by');
  app.use(securityHeaders);
  // Swagger's routes are not Nest's: the same credential is checked for them here.
  const auth = optional(app, AuthService);
  if (auth?.required) app.use(['/docs', '/docs-json'], (req: Request, res: Response, next: NextFunction) => guardDocs(auth, req, res, next));
  const doc = new DocumentBuilder()
    .setTitle(pkg.name)
    .setDescription(pkg.description)
    .setVersion(pkg.version)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API token (API_TOKEN_SHA256 holds its SHA-256)' }, BEARER_SCHEME)
    .addCookieAuth(SESSION_COOKIE, { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'The session the login page (/login) opens' }, SESSION_SCHEME)
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, doc), {
    jsonDocumentUrl: 'docs-json',
  });
}

export const packageInfo = pkg;

/** A provider of the app, when the app has its module (a test of one module may not). */
function optional<T>(app: INestApplication, type: new (...args: never[]) => T): T | undefined {
  try {
    return app.get(type, { strict: false });
  } catch {
    return undefined;
  }
}

function guardDocs(auth: AuthService, req: Request, res: Response, next: NextFunction): void {
  const admission = auth.admit(req);
  if (admission.admitted) return next();
  res.status(admission.status).setHeader(...admission.header);
  res.json({ statusCode: admission.status, error: admission.error, message: admission.message });
}

/**
 * On every response: no MIME sniffing, no referrer, never framed. Pages set a full
 * Content-Security-Policy of their own (src/dashboard/page-csp.ts); this one only forbids framing.
 */
function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Content-Security-Policy', "frame-ancestors 'none'");
  next();
}
