import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';

export const PUBLIC_ROUTE = 'anomaly-pipeline:public';
export const BEARER_SCHEME = 'token';
export const SESSION_SCHEME = 'session';
export const SESSION_COOKIE = 'ap_session';

/** A route anyone may call: SNS's /notify (its signature is the guard), the bare /health, the login and dashboard pages. */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/** What Swagger shows for every other route: the two ways in, and the 401 / 429 answers. */
export const Protected = () =>
  applyDecorators(
    ApiBearerAuth(BEARER_SCHEME),
    ApiCookieAuth(SESSION_SCHEME),
    ApiUnauthorizedResponse({ description: 'No valid credential (when the service requires one): a bearer API token, or the session cookie from /login' }),
    ApiTooManyRequestsResponse({ description: 'Too many failed attempts from this address; Retry-After says when to try again' }),
  );
