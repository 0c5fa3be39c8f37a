import { Body, Controller, Get, Header, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { pageCsp } from '../dashboard/page-csp';
import { AuthService } from './auth.service';
import { loginPage } from './login.page';
import { Public, SESSION_COOKIE } from './public.decorator';

const LOGIN_CSP = pageCsp(loginPage());

/**
 * The dashboard's way in: a token typed once, then an HttpOnly, SameSite=Strict session cookie
 * (Secure under HTTPS) that expires after SESSION_TTL. Scripts and tools send the token itself
 * (Authorization: Bearer), and never need this page.
 */
@ApiExcludeController()
@Controller()
export class LoginController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Get('login')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', LOGIN_CSP)
  page(): string {
    return loginPage('', this.auth.required);
  }

  @Public()
  @Post('login')
  @HttpCode(303)
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiBody({ schema: { properties: { token: { type: 'string' } } } })
  login(@Req() req: Request, @Res({ passthrough: true }) res: Response, @Body() body: { token?: unknown }): string {
    res.setHeader('Content-Security-Policy', LOGIN_CSP);
    const wait = this.auth.retryAfter(req);
    if (wait > 0) {
      res.status(429).setHeader('Retry-After', String(wait));
      res.type('html');
      return loginPage(`Too many failed attempts from this address: try again in ${wait} s.`);
    }
    const session = typeof body?.token === 'string' ? this.auth.login(req, body.token.trim()) : undefined;
    if (!session) {
      if (typeof body?.token !== 'string') this.auth.failed(req);
      res.status(401).type('html');
      return loginPage('That token is not valid.');
    }
    res.setHeader('Set-Cookie', sessionCookie(req, session.id, Math.floor(this.auth.sessionTtlMs / 1000)));
    res.setHeader('Location', '/');
    res.type('html');
    return '<!doctype html><a href="/">dashboard</a>';
  }

  @Public()
  @Post('logout')
  @HttpCode(303)
  logout(@Req() req: Request, @Res({ passthrough: true }) res: Response): string {
    this.auth.logout(req);
    res.setHeader('Set-Cookie', sessionCookie(req, '', 0));
    res.setHeader('Location', '/login');
    res.type('html');
    return '<!doctype html><a href="/login">log in</a>';
  }
}

function sessionCookie(req: Request, value: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${req.secure ? '; Secure' : ''}`;
}
