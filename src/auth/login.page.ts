/** The login page: one field for an API token; posts to /login, which sets the session cookie. */
export function loginPage(message = '', required = true): string {
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
  const body = required
    ? `<form method="post" action="/login">
  <label for="token">API token</label>
  <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
  <button type="submit">Log in</button>
</form>`
    : '<p>This service listens on loopback only and needs no credential: <a href="/">open the dashboard</a>.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>anomaly-pipeline: log in</title>
<style>
body { font: 15px/1.4 system-ui, sans-serif; max-width: 24rem; margin: 4rem auto; color: #1d2330; }
form { display: grid; gap: .6rem; } input, button { font: inherit; padding: .45rem .6rem; }
.error { color: #d63a3a; }
</style></head><body>
<h1>anomaly-pipeline</h1>
${message ? `<p class="error" id="message">${esc(message)}</p>` : ''}
${body}
</body></html>`;
}
