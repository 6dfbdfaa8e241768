/**
 * The dashboard page: four uPlot charts (heap against its limit, pressure
 * level, bytes per cache, evictions), a fifth in a memory cgroup (the
 * container's working set against its limit) and the cleanup log, fed by the
 * server-sent events of `/events`. Plain HTML and one inline script; the
 * only external file is uPlot itself, served by the same server.
 *
 * `window.nexusDashboard` exposes the charts and the received samples, so a
 * test (or a curious user in the console) can check what the page holds.
 */

const STYLE = `
  :root { color-scheme: light; --fg: #1d2330; --muted: #667085; --line: #e4e7ec; --bg: #f7f8fa; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
  header { padding: 14px 20px; background: #fff; border-bottom: 1px solid var(--line); display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 17px; margin: 0; }
  header .meta { color: var(--muted); }
  #status { font-weight: 600; }
  #status.running { color: #1570ef; } #status.finished { color: #039855; } #status.lost { color: #d92d20; }
  .stats { display: flex; gap: 18px; padding: 10px 20px; flex-wrap: wrap; }
  .stat { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 130px; }
  .stat .label { color: var(--muted); font-size: 12px; } .stat .value { font-size: 18px; font-weight: 600; font-variant-numeric: tabular-nums; }
  .level-normal { color: #039855; } .level-moderate { color: #dc6803; } .level-critical { color: #d92d20; } .level-emergency { color: #7a0916; }
  main { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 14px; padding: 4px 20px 14px; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; min-width: 0; }
  section h2 { font-size: 14px; margin: 0 0 6px; }
  .chart { width: 100%; }
  #log-section { grid-column: 1 / -1; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); }
  th { color: var(--muted); font-weight: 500; }
  td.num { text-align: right; }
  .fail { color: #d92d20; }
  #log-empty { color: var(--muted); }
  #report-section { grid-column: 1 / -1; display: none; }
  #container-section, #stat-container-box { display: none; }
  #report { margin: 0; font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; overflow-x: auto; }
`;

const SCRIPT = String.raw`
(function () {
  'use strict';
  var LEVELS = ['normal', 'moderate', 'critical', 'emergency'];
  var MB = 1024 * 1024;
  var COMPONENTS = ['image-cache', 'video-metadata', 'playback-buffers'];
  var COLORS = { 'image-cache': '#2e90fa', 'video-metadata': '#f79009', 'playback-buffers': '#7a5af8' };
  var samples = [];
  var charts = {};
  var data = { t: [], heap: [], limit: [], level: [], evictions: [], workingSet: [], containerLimit: [], caches: {} };
  COMPONENTS.forEach(function (c) { data.caches[c] = []; });
  var pending = false;

  function $(id) { return document.getElementById(id); }
  function fmtMB(b) { return (b / MB).toFixed(1) + ' MB'; }
  // Durations come from the clock's whole milliseconds: say "< 1 ms" rather than a false "0.0 ms".
  function fmtMs(ms) { return ms < 1 ? '< 1 ms' : ms < 10 ? ms.toFixed(1) + ' ms' : Math.round(ms) + ' ms'; }
  function width(el) { return Math.max(300, el.clientWidth); }

  function makeChart(id, series, axes, scales) {
    var el = $(id);
    var opts = {
      width: width(el), height: 220,
      scales: Object.assign({ x: { time: false } }, scales || {}),
      series: [{ label: 't (s)', value: function (u, v) { return v == null ? '-' : v.toFixed(1) + ' s'; } }].concat(series),
      axes: [{ label: 'seconds', size: 40 }].concat(axes),
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
    return new uPlot(opts, [[]].concat(series.map(function () { return []; })), el);
  }

  function build() {
    charts.heap = makeChart('chart-heap', [
      { label: 'heap used', stroke: '#1570ef', width: 2, fill: 'rgba(21,112,239,0.08)', value: function (u, v) { return v == null ? '-' : v.toFixed(1) + ' MB'; } },
      { label: 'limit', stroke: '#d92d20', width: 2, dash: [6, 4], value: function (u, v) { return v == null ? '-' : v.toFixed(1) + ' MB'; } },
    ], [{ label: 'MB', size: 50 }], { y: { range: function (u, min, max) { return [0, Math.max(max, 1) * 1.05]; } } });
    charts.level = makeChart('chart-level', [
      { label: 'pressure level', stroke: '#dc6803', width: 2, paths: uPlot.paths.stepped({ align: 1 }), value: function (u, v) { return v == null ? '-' : LEVELS[v]; } },
    ], [{ label: 'level', size: 80, splits: function () { return [0, 1, 2, 3]; }, values: function (u, splits) { return splits.map(function (v) { return LEVELS[v] || ''; }); } }],
    { y: { range: [-0.2, 3.2] } });
    charts.caches = makeChart('chart-caches', COMPONENTS.map(function (c) {
      return { label: c, stroke: COLORS[c], width: 2, value: function (u, v) { return v == null ? '-' : v.toFixed(1) + ' MB'; } };
    }), [{ label: 'MB', size: 50 }], { y: { range: function (u, min, max) { return [0, Math.max(max, 1) * 1.05]; } } });
    charts.evictions = makeChart('chart-evictions', [
      { label: 'evictions (total)', stroke: '#039855', width: 2, fill: 'rgba(3,152,85,0.08)' },
    ], [{ label: 'entries', size: 60 }], { y: { range: function (u, min, max) { return [0, Math.max(max, 1) * 1.05]; } } });
    charts.container = makeChart('chart-container', [
      { label: 'working set', stroke: '#7a5af8', width: 2, fill: 'rgba(122,90,248,0.08)', value: function (u, v) { return v == null ? '-' : v.toFixed(1) + ' MB'; } },
      { label: 'memory limit', stroke: '#d92d20', width: 2, dash: [6, 4], value: function (u, v) { return v == null ? '-' : v.toFixed(1) + ' MB'; } },
    ], [{ label: 'MB', size: 50 }], { y: { range: function (u, min, max) { return [0, Math.max(max, 1) * 1.05]; } } });
    window.addEventListener('resize', function () {
      Object.keys(charts).forEach(function (k) { var c = charts[k]; c.setSize({ width: width(c.root.parentNode), height: 220 }); });
    });
  }

  function push(s) {
    samples.push(s);
    data.t.push(s.t);
    data.heap.push(s.heapUsedBytes / MB);
    data.limit.push(s.heapLimitBytes / MB);
    data.level.push(LEVELS.indexOf(s.level));
    data.evictions.push(s.evictions);
    COMPONENTS.forEach(function (c) { data.caches[c].push((s.cacheBytes[c] || 0) / MB); });
    // Only a run in a memory cgroup has these; the chart then shows.
    var inContainer = s.containerLimitBytes != null;
    data.workingSet.push(inContainer ? s.containerWorkingSetBytes / MB : null);
    data.containerLimit.push(inContainer ? s.containerLimitBytes / MB : null);
    if (inContainer) showContainer();
  }

  function showContainer() {
    if ($('container-section').style.display === 'block') return;
    $('container-section').style.display = 'block';
    $('stat-container-box').style.display = 'block';
    charts.container.setSize({ width: width($('chart-container')), height: 220 });
  }

  function redraw() {
    pending = false;
    charts.heap.setData([data.t, data.heap, data.limit]);
    charts.level.setData([data.t, data.level]);
    charts.caches.setData([data.t].concat(COMPONENTS.map(function (c) { return data.caches[c]; })));
    charts.evictions.setData([data.t, data.evictions]);
    charts.container.setData([data.t, data.workingSet, data.containerLimit]);
    var s = samples[samples.length - 1];
    if (!s) return;
    if (s.containerLimitBytes != null) $('stat-container').textContent = fmtMB(s.containerWorkingSetBytes) + ' / ' + fmtMB(s.containerLimitBytes);
    $('stat-requests').textContent = s.requests.toLocaleString('en-US');
    $('stat-hit').textContent = s.requests > 0 ? (100 * s.hits / s.requests).toFixed(1) + '%' : '-';
    $('stat-heap').textContent = fmtMB(s.heapUsedBytes) + ' / ' + fmtMB(s.heapLimitBytes);
    var lv = $('stat-level'); lv.textContent = s.level; lv.className = 'value level-' + s.level;
    $('stat-evictions').textContent = s.evictions.toLocaleString('en-US');
    $('stat-source').textContent = s.source;
  }

  function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(redraw);
  }

  function addCleanup(entry) {
    $('log-empty').style.display = 'none';
    var body = $('log-body');
    entry.results.forEach(function (r) {
      var tr = document.createElement('tr');
      var cells = [entry.t.toFixed(1) + ' s', entry.level, r.cleanerName, fmtMB(r.bytesFreed), fmtMs(r.durationMs), r.success ? 'ok' : ('failed: ' + (r.error || ''))];
      cells.forEach(function (text, i) {
        var td = document.createElement('td');
        td.textContent = text;
        if (i === 0 || i === 3 || i === 4) td.className = 'num';
        if (i === 5 && !r.success) td.className = 'fail';
        tr.appendChild(td);
      });
      body.insertBefore(tr, body.firstChild);
    });
    $('log-count').textContent = String(body.children.length);
  }

  function setStatus(text, cls) { var el = $('status'); el.textContent = text; el.className = cls; }

  function setStart(info) {
    if (!info) return;
    $('meta').textContent = (info.mode === 'managed' ? 'nexus-store caches' : 'baseline: plain Map caches') +
      ' · seed ' + info.seed + ' · ' + info.durationS + ' s · heap capped at ' + info.heapMb + ' MB' +
      (info.containerLimitBytes != null ? ' · memory cgroup limited to ' + fmtMB(info.containerLimitBytes) : '');
    if (info.containerLimitBytes != null) showContainer();
  }

  build();
  var source = new EventSource('/events');
  // Connections opened and init events received, for tests and the curious.
  var stream = { opens: 0, inits: 0 };
  // init carries the server's whole kept state (the latest samples and cleanup
  // runs): it replaces what the page holds. A reconnect that the server can
  // resume (Last-Event-ID) gets only the missed events instead, no init.
  function reset() {
    samples.length = 0;
    Object.keys(data).forEach(function (k) { if (Array.isArray(data[k])) data[k].length = 0; });
    COMPONENTS.forEach(function (c) { data.caches[c].length = 0; });
    $('log-body').textContent = '';
    $('log-count').textContent = '0';
    $('log-empty').style.display = '';
  }
  source.addEventListener('init', function (e) {
    stream.inits++;
    var msg = JSON.parse(e.data);
    reset();
    setStart(msg.start);
    msg.samples.forEach(push);
    msg.cleanups.forEach(addCleanup);
    $('history-note').textContent = msg.truncated ? '(the latest ' + msg.samples.length + ' samples)' : '';
    setStatus(msg.end ? 'finished' : 'running', msg.end ? 'finished' : 'running');
    showReport(msg.end);
    schedule();
  });
  source.addEventListener('start', function (e) { setStart(JSON.parse(e.data)); });
  source.addEventListener('sample', function (e) { push(JSON.parse(e.data)); schedule(); });
  source.addEventListener('cleanup', function (e) { addCleanup(JSON.parse(e.data)); });
  function showReport(end) {
    if (!end) return;
    $('report').textContent = end.report;
    $('report-section').style.display = 'block';
  }
  source.addEventListener('end', function (e) { setStatus('finished', 'finished'); showReport(JSON.parse(e.data)); });
  // A reconnect the server resumes sends no init: the stream being open again is the news.
  source.addEventListener('open', function () {
    stream.opens++;
    if ($('status').className === 'lost') setStatus('running', 'running');
  });
  source.addEventListener('error', function () {
    if ($('status').className !== 'finished') setStatus('connection lost (the demo process ended or died)', 'lost');
  });
  window.nexusDashboard = { charts: charts, samples: samples, stream: stream };
})();
`;

export function dashboardPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nexus-store demo</title>
<link rel="stylesheet" href="/uPlot.min.css">
<style>${STYLE}</style>
</head>
<body>
<header><h1>nexus-store demo</h1><span id="status" class="running">connecting</span><span id="meta" class="meta"></span><span id="history-note" class="meta"></span></header>
<div class="stats">
  <div class="stat"><div class="label">requests</div><div class="value" id="stat-requests">-</div></div>
  <div class="stat"><div class="label">hit ratio</div><div class="value" id="stat-hit">-</div></div>
  <div class="stat"><div class="label">heap / limit</div><div class="value" id="stat-heap">-</div></div>
  <div class="stat" id="stat-container-box"><div class="label">container working set / limit</div><div class="value" id="stat-container">-</div></div>
  <div class="stat"><div class="label">pressure level</div><div class="value" id="stat-level">-</div></div>
  <div class="stat"><div class="label">signal</div><div class="value" id="stat-source">-</div></div>
  <div class="stat"><div class="label">evictions</div><div class="value" id="stat-evictions">-</div></div>
</div>
<main>
  <section><h2>Heap used against its limit</h2><div class="chart" id="chart-heap"></div></section>
  <section id="container-section"><h2>Container working set against its memory limit</h2><div class="chart" id="chart-container"></div></section>
  <section><h2>Pressure level</h2><div class="chart" id="chart-level"></div></section>
  <section><h2>Cache bytes</h2><div class="chart" id="chart-caches"></div></section>
  <section><h2>Evictions</h2><div class="chart" id="chart-evictions"></div></section>
  <section id="report-section"><h2>Report</h2><pre id="report"></pre></section>
  <section id="log-section"><h2>Cleanup log (<span id="log-count">0</span> results)</h2>
    <p id="log-empty">No cleanup run yet: the coordinator runs the cleaners when the pressure level rises.</p>
    <table><thead><tr><th>time</th><th>level</th><th>cleaner</th><th>freed</th><th>took</th><th>result</th></tr></thead><tbody id="log-body"></tbody></table>
  </section>
</main>
<script src="/uPlot.iife.min.js"></script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
