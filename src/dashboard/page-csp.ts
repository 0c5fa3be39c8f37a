import { createHash } from 'node:crypto';

/**
 * A Content-Security-Policy for a self-contained page: its inline <script> and <style> elements
 * allowed by their SHA-256 (so no other script runs, injected or not), everything else from this
 * origin only, never framed.
 */
export function pageCsp(html: string): string {
  const hashes = (tag: string) =>
    [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => `'sha256-${createHash('sha256').update(m[1], 'utf8').digest('base64')}'`).join(' ');
  return [
    "default-src 'self'",
    `script-src ${hashes('script') || "'none'"}`,
    `style-src ${hashes('style') || "'none'"}`,
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
