import { Injectable, Logger } from '@nestjs/common';
import type { Request } from 'express';
import { AppConfig } from '../config/app-config';
import { AttemptLimiter, SessionStore, TokenSet } from './credentials';
import { SESSION_COOKIE } from './public.decorator';

export type Authentication = 'ok' | 'none' | 'bad';

/** Whether a request may pass, and if not, the answer it gets (status, one header, message). */
export type Admission =
  | { admitted: true }
  | { admitted: false; status: 401 | 429; error: string; header: [string, string]; message: string };

/**
 * Who is calling: a bearer API token (its SHA-256 among API_TOKEN_SHA256) or a session cookie
 * from the login page. Failed attempts are counted per source address (AttemptLimiter).
 */
@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);
  readonly required: boolean;
  private readonly tokens: TokenSet;
  private readonly sessions: SessionStore;
  private readonly limiter = new AttemptLimiter();

  constructor(config: AppConfig) {
    this.required = config.auth.required;
    this.tokens = new TokenSet(config.auth.tokenHashes);
    this.sessions = new SessionStore(config.auth.sessionTtlMs);
    if (!config.auth.enabled) this.logger.warn(`AUTH=off: every route is open to whoever reaches ${config.host}:${config.port}`);
  }

  get sessionTtlMs(): number {
    return this.sessions.ttlMs;
  }

  authenticate(req: Request): Authentication {
    const header = req.headers.authorization;
    if (typeof header === 'string' && header.length > 0) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      return m && this.tokens.accepts(m[1]) ? 'ok' : 'bad';
    }
    const session = cookie(req, SESSION_COOKIE);
    if (session !== undefined) return this.sessions.valid(session) ? 'ok' : 'bad';
    return 'none';
  }

  /**
   * The one decision for every protected route (Nest's and Swagger's): an address with too many
   * failures waits; a wrong credential counts as a failure; a missing one is only told how.
   */
  admit(req: Request): Admission {
    const wait = this.retryAfter(req);
    if (wait > 0) {
      return { admitted: false, status: 429, error: 'Too Many Requests', header: ['Retry-After', String(wait)], message: `too many failed attempts from this address: try again in ${wait} s` };
    }
    const outcome = this.authenticate(req);
    if (outcome === 'ok') return { admitted: true };
    if (outcome === 'bad') this.failed(req);
    return {
      admitted: false,
      status: 401,
      error: 'Unauthorized',
      header: ['WWW-Authenticate', 'Bearer realm="anomaly-pipeline"'],
      message:
        outcome === 'bad' ? 'the credential is not valid (or the session expired): log in again at /login' : 'a credential is required: Authorization: Bearer <API token>, or log in at /login',
    };
  }

  /** Seconds this address must wait (0: it may try). */
  retryAfter(req: Request): number {
    return this.limiter.retryAfter(address(req));
  }

  failed(req: Request): void {
    this.limiter.fail(address(req));
  }

  /** A session for a valid token; undefined (and the attempt counted) otherwise. */
  login(req: Request, token: string): { id: string; expires: number } | undefined {
    if (this.tokens.accepts(token)) return this.sessions.open();
    this.failed(req);
    return undefined;
  }

  logout(req: Request): void {
    this.sessions.close(cookie(req, SESSION_COOKIE));
  }
}

function address(req: Request): string {
  return req.socket.remoteAddress ?? 'unknown';
}

/** One cookie's value from the Cookie header (no parser dependency for one name). */
export function cookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}
