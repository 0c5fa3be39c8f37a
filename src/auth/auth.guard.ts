import { CanActivate, ExecutionContext, HttpException, HttpStatus, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { AuthService } from './auth.service';
import { PUBLIC_ROUTE } from './public.decorator';

/** Marks the request as carrying a valid credential (read by /health, which says more to those). */
export interface AuthenticatedRequest extends Request {
  authenticated?: boolean;
}

/**
 * Every route needs a credential when the service requires one (config.auth.required), except
 * those marked @Public(). A wrong credential counts as a failed attempt of its source address;
 * an address with too many is refused (429) until its window has passed.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const res = context.switchToHttp().getResponse<Response>();
    const isPublic = this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [context.getHandler(), context.getClass()]) === true;
    if (!this.auth.required) {
      req.authenticated = true;
      return true;
    }
    const wait = this.auth.retryAfter(req);
    const outcome = wait > 0 ? 'bad' : this.auth.authenticate(req);
    req.authenticated = outcome === 'ok';
    if (isPublic || outcome === 'ok') return true;
    if (wait > 0) {
      res.setHeader('Retry-After', String(wait));
      throw new HttpException({ statusCode: 429, error: 'Too Many Requests', message: `too many failed attempts from this address: try again in ${wait} s` }, HttpStatus.TOO_MANY_REQUESTS);
    }
    if (outcome === 'bad') this.auth.failed(req);
    res.setHeader('WWW-Authenticate', 'Bearer realm="anomaly-pipeline"');
    throw new UnauthorizedException(
      outcome === 'bad' ? 'the credential is not valid (or the session expired): log in again at /login' : 'a credential is required: Authorization: Bearer <API token>, or log in at /login',
    );
  }
}
