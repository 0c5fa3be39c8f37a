import { CanActivate, ExecutionContext, HttpException, Injectable } from '@nestjs/common';
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
    if (isPublic) {
      // Open to anyone; a credential only makes /health say more, and a wrong one is not counted here.
      req.authenticated = this.auth.retryAfter(req) === 0 && this.auth.authenticate(req) === 'ok';
      return true;
    }
    const admission = this.auth.admit(req);
    req.authenticated = admission.admitted;
    if (admission.admitted) return true;
    res.setHeader(...admission.header);
    throw new HttpException({ statusCode: admission.status, error: admission.error, message: admission.message }, admission.status);
  }
}
