/**
 * The dashboard: one self-contained page (inline CSS and JS, SVG charts drawn by hand), so there is
 * no build step and nothing is fetched from the internet. It reads the public API like any client.
 */
export const DASHBOARD_HTML = /* html */ `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>anomaly-pipeline</title>
<style>
  :root { --fg:#1d2330; --muted:#6b7385; --line:#3b6fd8; --band:rgba(59,111,216,.12); --bad:#d63a3a; --bg:#f6f7fa; }
  body { font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
  header { background: #fff; border-bottom: 1px solid #dde1ea; padding: 12px 24px; display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0; }
  .totals span { margin-right: 18px; } .totals b { font-size: 16px; }
  main { padding: 16px 24px; display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); }
  section { background: #fff; border: 1px solid #dde1ea; border-radius: 6px; padding: 12px 16px; }
  section h2 { font-size: 14px; margin: 0 0 8px; }
  svg { width: 100%; height: 180px; display: block; }
  table { border-collapse: collapse; width: 100%; font-size: 12px; }
  th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #eef0f4; }
  .wide { grid-column: 1 / -1; }
  .muted { color: var(--muted); } .bad { color: var(--bad); }
  #status { margin-left: auto; color: var(--muted); font-size: 12px; }
#channels { display: contents; }
.logout { margin: 0; } .logout button { font: inherit; }
</style>
</head>
<body>
<header>
  <h1>anomaly-pipeline</h1>
  <div class="totals" id="totals">loading…</div>
  <div id="status"></div>
  <form class="logout" method="post" action="/logout"><button type="submit">log out</button></form>
</header>
<main>
  <section class="wide"><h2>Anomaly rate per batch</h2><svg id="rate-chart" role="img" aria-label="anomaly rate per batch"></svg></section>
  <div id="channels"></div>
  <section><h2>Baseline</h2><table id="baseline"><thead><tr><th>channel</th><th>observations</th><th>mean</th><th>std</th><th>mature</th><th>seasonal</th></tr></thead><tbody></tbody></table></section>
  <section class="wide"><h2>Recent anomalies</h2><table id="anomalies"><thead><tr><th>time</th><th>reasons</th><th>score</th><th>file</th><th>feedback</th></tr></thead><tbody></tbody></table><p id="feedback-status" class="muted"></p></section>
</main>
<script>
const REFRESH_MS = 5000;
const W = 800, H = 180, PAD = 28;
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const fmt = (x, d = 4) => (typeof x === 'number' ? (Math.round(x * 10 ** d) / 10 ** d).toString() : '–');

async function getJson(url) {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  if (res.status === 401) { location.href = '/login'; throw new Error('not logged in'); }
  if (!res.ok) throw new Error(url + ' answered ' + res.status);
  return res.json();
}

function scale(min, max, a, b) {
  if (!(max > min)) { max = min + 1; min = min - 1; }
  return (v) => a + ((v - min) / (max - min)) * (b - a);
}

function lineChart(svg, points, opts) {
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  const vals = points.map((p) => p.y).filter((v) => v !== null);
  let lo = Math.min(...vals, opts.band ? opts.band[0] : Infinity, opts.floor ?? Infinity), hi = Math.max(...vals, opts.band ? opts.band[1] : -Infinity);
  if (!isFinite(lo)) { lo = 0; hi = 1; }
  const x = scale(0, Math.max(1, points.length - 1), PAD, W - 8), y = scale(lo, hi, H - PAD, 8);
  let out = '';
  if (opts.band) out += '<rect class="band" x="' + PAD + '" y="' + y(opts.band[1]) + '" width="' + (W - 8 - PAD) + '" height="' + Math.max(0, y(opts.band[0]) - y(opts.band[1])) + '" fill="var(--band)"></rect>';
  let d = '', pen = false;
  points.forEach((p, i) => { if (p.y === null) { pen = false; return; } d += (pen ? 'L' : 'M') + x(i).toFixed(1) + ' ' + y(p.y).toFixed(1); pen = true; });
  out += '<path d="' + d + '" fill="none" stroke="var(--line)" stroke-width="1.2"></path>';
  points.forEach((p, i) => { if (p.flag && p.y !== null) out += '<circle class="flagged" cx="' + x(i).toFixed(1) + '" cy="' + y(p.y).toFixed(1) + '" r="3.5" fill="var(--bad)"><title>' + esc(p.title) + '</title></circle>'; });
  out += '<text x="2" y="12" font-size="10" fill="var(--muted)">' + fmt(hi, 2) + '</text><text x="2" y="' + (H - PAD) + '" font-size="10" fill="var(--muted)">' + fmt(lo, 2) + '</text>';
  svg.innerHTML = out;
}

function renderChannels(batches, baseline) {
  const holder = $('channels');
  const channels = [...new Set(batches.flatMap((b) => b.series.channels))];
  for (const ch of channels) {
    let sec = document.querySelector('section[data-channel="' + CSS.escape(ch) + '"]');
    if (!sec) {
      sec = document.createElement('section');
      sec.dataset.channel = ch;
      sec.innerHTML = '<h2>' + esc(ch) + ' <span class="muted"></span></h2><svg></svg>';
      holder.appendChild(sec);
    }
    const points = [];
    for (const b of batches) {
      const s = b.series, vals = s.values[ch] || [];
      vals.forEach((v, i) => points.push({ y: v, flag: s.anomaly[i] && (s.zscoreFlags[ch]?.[i] || (s.reasons[i] || '').includes(ch)), title: (s.timestamps[i] || '') + ' ' + ch + '=' + v + ' ' + (s.reasons[i] || '') }));
    }
    const base = baseline.channels?.[ch];
    const z = baseline.z_threshold ?? 3;
    const seasonal = base && base.baseline_mature && base.season;
    const band = seasonal ? base.season.band : base && base.baseline_mature ? [base.mean - z * base.std, base.mean + z * base.std] : null;
    lineChart(sec.querySelector('svg'), points, { band });
    const what = seasonal ? ' · band of this hour (' + base.seasonal + ' profile, ' + base.season.timezone + ')' : band ? ' · band mean ± ' + z + ' std' : ' · baseline immature';
    sec.querySelector('h2 span').textContent = points.filter((p) => p.flag).length + ' flagged of ' + points.length + what;
  }
}

function renderRate(batches) {
  lineChart($('rate-chart'), batches.map((b) => ({ y: b.summary.anomaly_rate, flag: false })), { floor: 0 });
}

function renderTotals(summary) {
  $('totals').innerHTML = summary.message ? esc(summary.message) :
    '<span>files <b id="files-processed">' + summary.files_processed + '</b></span><span>rows <b id="rows-scored">' + summary.total_rows_scored +
    '</b></span><span>anomalies <b id="total-anomalies">' + summary.total_anomalies + '</b></span><span>rate <b>' + fmt(summary.overall_anomaly_rate) + '</b></span>';
}

function renderBaseline(baseline) {
  $('baseline').tBodies[0].innerHTML = Object.entries(baseline.channels || {}).map(([ch, s]) =>
    '<tr><td>' + esc(ch) + '</td><td>' + s.observations + '</td><td>' + fmt(s.mean) + '</td><td>' + fmt(s.std) + '</td><td>' + (s.baseline_mature ? 'yes' : '<span class="muted">no</span>') + '</td><td>' + (s.seasonal ? esc(s.seasonal) : '<span class="muted">no</span>') + '</td></tr>').join('');
}

function renderAnomalies(recent) {
  $('anomalies').tBodies[0].innerHTML = recent.anomalies.map((a) => {
    const time = a.timestamp ?? a.time ?? '';
    const data = ' data-file="' + esc(a.source_file) + '" data-row="' + esc(a.row) + '"';
    return '<tr><td>' + esc(time) + '</td><td class="bad">' + esc(a.anomaly_reasons) + '</td><td>' + fmt(a.anomaly_score, 3) + '</td><td><a href="/batches/file?key=' + encodeURIComponent(a.source_file) + '">' + esc(a.source_file) + '</a></td>' +
      '<td><button type="button" data-verdict="normal"' + data + ' title="A false alarm: learn these values as normal">false alarm</button> ' +
      '<button type="button" data-verdict="anomaly"' + data + ' title="An incident: never learn this period">incident</button></td></tr>';
  }).join('') || '<tr><td colspan="5" class="muted">no anomalies in the recent files</td></tr>';
}

// One click marks a row (POST /feedback); the effect shows from the next batch.
$('anomalies').addEventListener('click', async (event) => {
  const button = event.target.closest('button[data-verdict]');
  if (!button) return;
  button.disabled = true;
  const body = { verdict: button.dataset.verdict, source_file: button.dataset.file, rows: [Number(button.dataset.row)] };
  try {
    const res = await fetch('/feedback', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) });
    const answer = await res.json();
    if (!res.ok) throw new Error(answer.message || ('answered ' + res.status));
    $('feedback-status').textContent = 'feedback ' + answer.id + ': row ' + body.rows[0] + ' of ' + body.source_file + ' marked ' + (body.verdict === 'normal' ? 'a false alarm' : 'an incident') + '; it applies from the next batch';
  } catch (err) {
    button.disabled = false;
    $('feedback-status').textContent = 'feedback failed: ' + err.message;
  }
});

async function refresh() {
  try {
    const [batches, summary, recent, baseline] = await Promise.all([
      getJson('/batches/recent?files=20'), getJson('/anomalies/summary'), getJson('/anomalies/recent?limit=50'), getJson('/baseline/current'),
    ]);
    renderTotals(summary); renderRate(batches); renderChannels(batches, baseline); renderBaseline(baseline); renderAnomalies(recent);
    $('status').textContent = 'updated ' + new Date().toLocaleTimeString();
    document.body.dataset.loaded = 'true';
  } catch (err) {
    $('status').textContent = 'refresh failed: ' + err.message;
  }
}
refresh();
setInterval(refresh, REFRESH_MS);
</script>
</body>
</html>
`;
