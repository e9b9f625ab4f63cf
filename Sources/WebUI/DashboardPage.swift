import HTTP

/// The dashboard: one HTML page and one script, both in this file, served by the web UI itself
/// (no external scripts, fonts or CDNs; the machine may be offline). The script polls the cached
/// JSON API, follows `/api/v1/events` and a module's log over SSE (read with `fetch`, so the
/// bearer token goes in a header), and draws the charts as inline SVG.
enum DashboardPage {
    static let securityHeaders: HTTPHeaders = [
        "Cache-Control": "no-cache",
        "Content-Security-Policy":
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
        "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    ]

    static let response: HTTPResponse = {
        var headers = securityHeaders
        headers.set("Content-Type", "text/html; charset=utf-8")
        return HTTPResponse(status: 200, headers: headers, body: Array(html.utf8))
    }()

    static let script: HTTPResponse = {
        var headers = securityHeaders
        headers.set("Content-Type", "text/javascript; charset=utf-8")
        return HTTPResponse(status: 200, headers: headers, body: Array(js.utf8))
    }()

    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>SuperBot</title>
        <style>
        :root { --bg:#0f1419; --panel:#171d24; --line:#2a323c; --text:#d8dee6; --dim:#8a96a3; --ok:#3fb950;
                --bad:#f85149; --warn:#d29922; --accent:#58a6ff; }
        * { box-sizing: border-box; }
        body { margin:0; font:13px/1.4 system-ui, sans-serif; background:var(--bg); color:var(--text); }
        header { display:flex; gap:16px; align-items:center; padding:10px 16px; border-bottom:1px solid var(--line);
                 position:sticky; top:0; background:var(--bg); z-index:2; }
        header h1 { font-size:16px; margin:0; }
        #conn { padding:2px 8px; border-radius:10px; font-weight:600; }
        #conn.up { background:#12361f; color:var(--ok); } #conn.down { background:#3d1414; color:var(--bad); }
        #banner { display:none; background:#3d1414; color:#ffb4ad; padding:8px 16px; }
        #banner.show { display:block; }
        main { display:grid; grid-template-columns: minmax(0,3fr) minmax(0,2fr); gap:12px; padding:12px; }
        section { background:var(--panel); border:1px solid var(--line); border-radius:6px; padding:10px; min-width:0; }
        section.wide { grid-column: 1 / -1; }
        h2 { font-size:14px; margin:0 0 8px; display:flex; gap:10px; align-items:center; }
        h2 small { color:var(--dim); font-weight:400; }
        .scroll { max-height:420px; overflow:auto; }
        table { border-collapse:collapse; width:100%; font-variant-numeric: tabular-nums; }
        th, td { padding:3px 6px; border-bottom:1px solid var(--line); text-align:right; white-space:nowrap; }
        th:first-child, td:first-child { text-align:left; }
        th { color:var(--dim); font-weight:600; cursor:pointer; user-select:none; position:sticky; top:0; background:var(--panel); }
        td.l { text-align:left; }
        tr.sel td { background:#1f2a36; }
        .running, .ok, .buy { color:var(--ok); } .crashed, .fatal, .bad, .sell { color:var(--bad); }
        .stopped, .backoff, .paused, .starting, .stopping { color:var(--warn); }
        button { background:#21262d; color:var(--text); border:1px solid var(--line); border-radius:4px; padding:1px 6px;
                 cursor:pointer; font-size:12px; }
        button:hover { border-color:var(--accent); }
        input, select { background:#0d1117; color:var(--text); border:1px solid var(--line); border-radius:4px; padding:2px 6px; }
        #feed { font-family: ui-monospace, monospace; font-size:12px; max-height:300px; overflow:auto; }
        #feed div { border-bottom:1px solid var(--line); padding:1px 0; white-space:nowrap; overflow:hidden; text-overflow:ellipsis; }
        #log { font-family: ui-monospace, monospace; font-size:12px; height:260px; overflow:auto; white-space:pre-wrap;
               background:#0d1117; padding:6px; margin:0; }
        svg { width:100%; height:170px; background:#0d1117; border-radius:4px; display:block; margin-bottom:6px; }
        svg .axis { fill:var(--dim); font-size:10px; }
        #toast { position:fixed; right:16px; bottom:16px; background:#21262d; border:1px solid var(--line); padding:8px 12px;
                 border-radius:6px; display:none; max-width:420px; } #toast.show { display:block; }
        #tokenForm { display:none; gap:6px; } #tokenForm.show { display:flex; }
        .dim { color:var(--dim); }
        </style>
        </head>
        <body>
        <header>
          <h1>SuperBot</h1>
          <span id="conn" class="down">connecting…</span>
          <span class="dim" id="age"></span>
          <span class="dim" id="summary"></span>
          <form id="tokenForm"><input id="token" type="password" placeholder="API token" autocomplete="off"><button>Use token</button></form>
        </header>
        <div id="banner">Disconnected from the web UI or the daemon: figures below may be stale. Reconnecting…</div>
        <main>
          <section class="wide">
            <h2>Engines <small id="engineCount"></small>
              <input id="filter" type="search" placeholder="filter symbol or status"></h2>
            <div class="scroll"><table id="engines"><thead><tr>
              <th data-k="symbol">Symbol</th><th data-k="status">Status</th><th data-k="position">Position</th>
              <th data-k="last_price">Price</th><th data-k="equity">Equity</th><th data-k="pnl">PnL</th>
              <th data-k="trade_count">Trades</th><th data-k="error_count">Errors</th><th data-k="heartbeat_age">Heartbeat</th>
              <th>Control</th></tr></thead><tbody></tbody></table></div>
          </section>
          <section>
            <h2>Chart <select id="symbol"></select> <small>price with fills ▲ buy ▼ sell, then equity</small></h2>
            <svg id="priceChart" viewBox="0 0 600 170" preserveAspectRatio="none"></svg>
            <svg id="equityChart" viewBox="0 0 600 170" preserveAspectRatio="none"></svg>
          </section>
          <section>
            <h2>Live events <small id="eventCount"></small></h2>
            <div id="feed"></div>
          </section>
          <section class="wide">
            <h2>Modules</h2>
            <div class="scroll"><table id="modules"><thead><tr>
              <th>Name</th><th>State</th><th>PID</th><th>Uptime</th><th>CPU %</th><th>RSS</th><th>Restarts</th>
              <th>Reason</th><th>Control</th></tr></thead><tbody></tbody></table></div>
          </section>
          <section>
            <h2>Positions</h2>
            <div class="scroll"><table id="positions"><thead><tr>
              <th>Symbol</th><th>Position</th><th>Avg price</th><th>Last</th><th>Unrealized</th><th>Realized</th></tr></thead>
              <tbody></tbody></table></div>
          </section>
          <section>
            <h2>Recent trades <small>closed round trips</small></h2>
            <div class="scroll"><table id="trades"><thead><tr>
              <th>Symbol</th><th>Opened</th><th>Closed</th><th>Amount</th><th>Open</th><th>Close</th><th>Profit</th></tr></thead>
              <tbody></tbody></table></div>
          </section>
          <section class="wide">
            <h2>Backtests <small>reports/ (superbot-cli backtest run …)</small></h2>
            <div class="scroll"><table id="backtests"><thead><tr>
              <th>Report</th><th>Created</th><th>Strategy</th><th>Bars</th><th>Return %</th><th>Sharpe</th><th>Max DD %</th>
              <th>Trades</th><th>Page</th></tr></thead><tbody></tbody></table></div>
          </section>
          <section class="wide">
            <h2>Log <select id="logModule"></select> <small id="logState"></small></h2>
            <pre id="log"></pre>
          </section>
        </main>
        <div id="toast"></div>
        <script src="/app.js"></script>
        </body>
        </html>
        """#

    static let js = #"""
        "use strict";
        const $ = (id) => document.getElementById(id);
        const S = { token: sessionStorage.getItem("superbot.token") || "", engines: [], modules: [], sort: { k: "symbol", d: 1 },
                    filter: "", symbol: null, chart: null, feed: [], events: 0, up: false, lastOk: 0, logName: null, logAbort: null };

        function headers(extra) {
          const h = Object.assign({}, extra || {});
          if (S.token) h["Authorization"] = "Bearer " + S.token;
          return h;
        }
        async function api(path, opts) {
          const r = await fetch(path, Object.assign({ headers: headers(), cache: "no-store" }, opts || {}));
          if (r.status === 401) { askToken(); throw new Error("token required"); }
          const body = await r.json().catch(() => ({}));
          if (!r.ok && r.status !== 404) { const e = new Error(body.detail || r.statusText); e.status = r.status; e.soft = true; throw e; }
          return body;
        }
        function askToken() { $("tokenForm").classList.add("show"); }
        $("tokenForm").addEventListener("submit", (e) => {
          e.preventDefault(); S.token = $("token").value; sessionStorage.setItem("superbot.token", S.token);
          $("tokenForm").classList.remove("show"); refresh(); restartStreams();
        });
        function toast(text) { const t = $("toast"); t.textContent = text; t.classList.add("show"); clearTimeout(t.timer);
          t.timer = setTimeout(() => t.classList.remove("show"), 4000); }
        function setUp(up) {
          S.up = up; $("conn").textContent = up ? "live" : "disconnected"; $("conn").className = up ? "up" : "down";
          $("banner").classList.toggle("show", !up);
        }
        const fmt = (x, d) => x === null || x === undefined ? "–" : Number(x).toLocaleString("en-US", { maximumFractionDigits: d === undefined ? 2 : d, minimumFractionDigits: 0 });
        const px = (x) => x === null || x === undefined ? "–" : fmt(x, Math.abs(x) >= 100 ? 2 : Math.abs(x) >= 1 ? 4 : 6);
        const bytes = (x) => x ? (x / 1048576).toFixed(1) + " MB" : "–";
        const dur = (s) => s === null || s === undefined ? "–" : s < 60 ? Math.round(s) + "s" : s < 3600 ? Math.round(s / 60) + "m" : (s / 3600).toFixed(1) + "h";
        function cell(tr, text, cls) { const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); return td; }
        function buttons(td, kind, name) {
          for (const action of ["start", "stop", "restart"]) {
            const b = document.createElement("button"); b.textContent = action; b.dataset.action = action; b.dataset.name = name;
            b.addEventListener("click", (e) => { e.stopPropagation(); control(kind, action, name); }); td.appendChild(b);
          }
        }
        async function control(kind, action, name) {
          const path = kind === "engine" ? `/engines/${action}/${encodeURIComponent(name)}` : `/api/v1/modules/${encodeURIComponent(name)}/${action}`;
          try {
            const r = await fetch(path, { method: "POST", headers: headers() });
            const body = await r.json().catch(() => ({}));
            if (r.status === 401) { askToken(); return; }
            toast(r.ok ? `${name}: ${body.status}` : `${name}: ${body.detail || r.status}`);
            if (r.ok && kind === "engine" && body.engine) {
              const i = S.engines.findIndex((e) => e.symbol === name); if (i >= 0) { S.engines[i] = body.engine; renderEngines(); }
            }
          } catch (e) { toast(`${name}: ${e.message}`); }
          setTimeout(refresh, 300);
        }

        function renderEngines() {
          const f = S.filter.toLowerCase();
          const rows = S.engines.filter((e) => !f || e.symbol.toLowerCase().includes(f) || (e.status || "").includes(f))
            .map((e) => Object.assign({ pnl: (e.realized_pnl || 0) + (e.unrealized_pnl || 0) }, e));
          const { k, d } = S.sort;
          rows.sort((a, b) => (a[k] < b[k] ? -d : a[k] > b[k] ? d : 0) || (a.symbol < b.symbol ? -1 : 1));
          const body = document.createElement("tbody");
          for (const e of rows) {
            const tr = document.createElement("tr"); tr.dataset.symbol = e.symbol; if (e.symbol === S.symbol) tr.className = "sel";
            cell(tr, e.symbol); cell(tr, e.status + (e.stale ? " (stale)" : ""), e.status).title = e.reason || "";
            cell(tr, fmt(e.position, 6)); cell(tr, px(e.last_price)); cell(tr, fmt(e.equity));
            cell(tr, fmt(e.pnl), e.pnl >= 0 ? "ok" : "bad"); cell(tr, e.trade_count); cell(tr, e.error_count, e.error_count ? "bad" : "");
            cell(tr, e.heartbeat_age === null ? "–" : e.heartbeat_age.toFixed(1) + "s");
            buttons(cell(tr, ""), "engine", e.symbol);
            tr.addEventListener("click", () => selectSymbol(e.symbol));
            body.appendChild(tr);
          }
          $("engines").replaceChild(body, $("engines").tBodies[0]);
          const running = S.engines.filter((e) => e.status === "running").length;
          $("engineCount").textContent = `${S.engines.length} engines · ${running} running` + (rows.length !== S.engines.length ? ` · ${rows.length} shown` : "");
        }
        function renderModules() {
          const body = document.createElement("tbody");
          for (const m of S.modules) {
            const tr = document.createElement("tr"); tr.dataset.module = m.name;
            cell(tr, m.name); cell(tr, m.state, m.state); cell(tr, m.pid || "–"); cell(tr, dur(m.uptime_seconds));
            cell(tr, fmt(m.cpu_percent, 1)); cell(tr, bytes(m.rss_bytes)); cell(tr, m.restarts); cell(tr, m.reason || "", "l");
            buttons(cell(tr, ""), "module", m.name); body.appendChild(tr);
          }
          $("modules").replaceChild(body, $("modules").tBodies[0]);
          const sel = $("logModule"); const names = ["daemon"].concat(S.modules.map((m) => m.name));
          if (sel.options.length !== names.length) {
            sel.textContent = ""; for (const n of names) sel.add(new Option(n, n));
            if (!S.logName) S.logName = "daemon";
            sel.value = S.logName; followLog();
          }
        }
        function renderTable(id, rows, cols) {
          const body = document.createElement("tbody");
          for (const r of rows) { const tr = document.createElement("tr"); for (const [f, cls] of cols) cell(tr, f(r), cls ? cls(r) : ""); body.appendChild(tr); }
          $(id).replaceChild(body, $(id).tBodies[0]);
        }

        async function refresh() {
          try {
            const [engines, modules, positions, trades] = await Promise.all([
              api("/engines/status").catch((e) => { if (e.status === 503) return { engines: [] }; throw e; }),
              api("/api/v1/modules"), api("/api/v1/positions").catch(() => ({ positions: [] })),
              api("/api/v1/trades?limit=20").catch(() => ({ trades: [] }))]);
            S.engines = engines.engines || []; S.modules = modules.modules || [];
            renderEngines(); renderModules();
            renderTable("positions", (positions.positions || []).filter((p) => p.position > 0), [
              [(p) => p.symbol], [(p) => fmt(p.position, 6)], [(p) => px(p.average_price)], [(p) => px(p.last_price)],
              [(p) => fmt(p.unrealized_pnl), (p) => p.unrealized_pnl >= 0 ? "ok" : "bad"], [(p) => fmt(p.realized_pnl)]]);
            renderTable("trades", trades.trades || [], [
              [(t) => t.symbol], [(t) => t.open_date.slice(11, 19)], [(t) => t.close_date.slice(11, 19)], [(t) => fmt(t.amount, 6)],
              [(t) => px(t.open_rate)], [(t) => px(t.close_rate)], [(t) => fmt(t.profit_abs), (t) => t.profit_abs >= 0 ? "ok" : "bad"]]);
            const symbols = S.engines.map((e) => e.symbol).sort();
            const sel = $("symbol");
            if (sel.options.length !== symbols.length) { sel.textContent = ""; for (const s of symbols) sel.add(new Option(s, s)); }
            if (!S.symbol && symbols.length) selectSymbol(symbols[0]); else if (S.symbol) sel.value = S.symbol;
            S.lastOk = Date.now(); setUp(true);
            $("summary").textContent = `${S.modules.filter((m) => m.state === "running").length}/${S.modules.length} modules running`;
          } catch (e) {
            if (e.message !== "token required") setUp(false);
          }
        }
        setInterval(() => { $("age").textContent = S.lastOk ? `updated ${Math.round((Date.now() - S.lastOk) / 1000)}s ago` : ""; if (S.lastOk && Date.now() - S.lastOk > 8000) setUp(false); }, 1000);

        async function selectSymbol(symbol) {
          S.symbol = symbol; $("symbol").value = symbol;
          for (const tr of $("engines").tBodies[0].rows) tr.classList.toggle("sel", tr.dataset.symbol === symbol);
          try { S.chart = await api("/api/v1/charts/" + encodeURIComponent(symbol)); } catch (e) { S.chart = null; }
          if (!S.chart || !S.chart.prices) S.chart = { prices: [], equity: [], fills: [] };
          drawCharts();
        }
        $("symbol").addEventListener("change", (e) => selectSymbol(e.target.value));
        $("filter").addEventListener("input", (e) => { S.filter = e.target.value; renderEngines(); });
        for (const th of document.querySelectorAll("#engines th[data-k]")) {
          th.addEventListener("click", () => { const k = th.dataset.k; S.sort = { k, d: S.sort.k === k ? -S.sort.d : 1 }; renderEngines(); });
        }

        const NS = "http://www.w3.org/2000/svg";
        function el(name, attrs, text) { const e = document.createElementNS(NS, name); for (const k in attrs) e.setAttribute(k, attrs[k]); if (text !== undefined) e.textContent = text; return e; }
        function draw(svg, points, color, fills) {
          svg.textContent = "";
          if (points.length < 2) { svg.appendChild(el("text", { x: 10, y: 20, class: "axis" }, "waiting for data…")); return; }
          const W = 600, H = 170, P = 16;
          const t0 = points[0][0], t1 = points[points.length - 1][0];
          let lo = Math.min(...points.map((p) => p[1])), hi = Math.max(...points.map((p) => p[1]));
          if (hi === lo) { hi += 1; lo -= 1; }
          const x = (t) => P + (t - t0) / Math.max(1e-9, t1 - t0) * (W - 2 * P), y = (v) => H - P - (v - lo) / (hi - lo) * (H - 2 * P);
          svg.appendChild(el("polyline", { points: points.map((p) => x(p[0]).toFixed(1) + "," + y(p[1]).toFixed(1)).join(" "),
            fill: "none", stroke: color, "stroke-width": 1.5, "vector-effect": "non-scaling-stroke" }));
          for (const f of fills || []) {
            if (f.ts < t0 || f.ts > t1) continue;
            const cx = x(f.ts), cy = y(Math.min(hi, Math.max(lo, f.price))), up = f.side === "BUY";
            svg.appendChild(el("path", { d: up ? `M${cx},${cy + 2} l-5,9 h10 z` : `M${cx},${cy - 2} l-5,-9 h10 z`, class: up ? "buy" : "sell",
              fill: up ? "#3fb950" : "#f85149" }));
          }
          svg.appendChild(el("text", { x: 4, y: 12, class: "axis" }, px(hi)));
          svg.appendChild(el("text", { x: 4, y: H - 4, class: "axis" }, px(lo)));
        }
        function drawCharts() {
          const c = S.chart || { prices: [], equity: [], fills: [] };
          draw($("priceChart"), c.prices, "#58a6ff", c.fills);
          draw($("equityChart"), c.equity, "#d29922");
        }

        function addFeed(m) {
          S.events += 1; $("eventCount").textContent = `${S.events} received`;
          if (m.topic.startsWith("price.")) return;
          const div = document.createElement("div");
          const time = new Date(m.ts * 1000).toISOString().slice(11, 19);
          div.textContent = `${time} ${m.topic} ${m.source} ${JSON.stringify(m.data)}`;
          div.className = m.topic.startsWith("alert.") || m.topic.endsWith("crashed") ? "bad" : "";
          $("feed").prepend(div);
          while ($("feed").childNodes.length > 200) $("feed").lastChild.remove();
        }
        async function loadBacktests() {
          try {
            const r = await api("/api/v1/backtests");
            const body = document.createElement("tbody");
            for (const b of (r.reports || []).slice(0, 50)) {
              const tr = document.createElement("tr"), st = b.statistics || {}, p = b.parameters || {};
              cell(tr, b.id); cell(tr, (b.created || "").slice(0, 19)); cell(tr, `${p.strategy || "?"}(${p.fast || ""},${p.slow || ""})`);
              cell(tr, b.bars); cell(tr, fmt(st["Return [%]"])); cell(tr, fmt(st["Sharpe Ratio"])); cell(tr, fmt(st["Max. Drawdown [%]"]));
              cell(tr, st["# Trades"]);
              const open = document.createElement("button"); open.textContent = "open";
              open.addEventListener("click", () => openReport(b.id)); cell(tr, "").appendChild(open);
              body.appendChild(tr);
            }
            $("backtests").replaceChild(body, $("backtests").tBodies[0]);
          } catch (e) { /* shown by the connection state */ }
        }
        async function openReport(id) {
          const r = await fetch(`/api/v1/backtests/${encodeURIComponent(id)}/report.html`, { headers: headers() });
          if (!r.ok) { toast(`${id}: ${r.status}`); return; }
          window.open(URL.createObjectURL(new Blob([await r.text()], { type: "text/html" })), "_blank");
        }

        function onEvent(m) {
          addFeed(m);
          if (m.topic === "backtest.completed") loadBacktests();
          const sym = m.data && m.data.symbol;
          if (m.topic.startsWith("price.") && sym === S.symbol && S.chart) {
            S.chart.prices.push([m.ts, m.data.price]); if (S.chart.prices.length > 600) S.chart.prices.shift();
            const e = S.engines.find((x) => x.symbol === sym); if (e && e.equity !== undefined) { S.chart.equity.push([m.ts, e.equity]); if (S.chart.equity.length > 600) S.chart.equity.shift(); }
            drawCharts();
          } else if (m.topic === "trade.executed" && sym === S.symbol && S.chart) {
            S.chart.fills.push({ ts: m.ts, price: m.data.price, side: m.data.side }); drawCharts();
          } else if (m.topic.startsWith("engine.") && sym) {
            const e = S.engines.find((x) => x.symbol === sym); if (e) { e.status = m.data.status; e.reason = m.data.reason; renderEngines(); }
          } else if (m.topic.startsWith("module.")) { setTimeout(refresh, 200); }
        }

        // Server-Sent Events read with fetch (an EventSource cannot send the bearer token), with
        // Last-Event-ID resume and reconnection when the web UI or the daemon restarts.
        async function stream(path, state, onMessage, signal) {
          let delay = 500;
          while (!signal.aborted) {
            try {
              const h = headers(state.lastId ? { "Last-Event-ID": state.lastId } : {});
              const r = await fetch(path, { headers: h, signal, cache: "no-store" });
              if (r.status === 401) { askToken(); return; }
              if (!r.ok || !r.body) throw new Error("status " + r.status);
              if (state.onOpen) state.onOpen();
              delay = 500;
              const reader = r.body.getReader(); const dec = new TextDecoder(); let buf = "";
              for (;;) {
                const { value, done } = await reader.read(); if (done) break;
                buf += dec.decode(value, { stream: true });
                let i;
                while ((i = buf.indexOf("\n\n")) >= 0) {
                  const block = buf.slice(0, i); buf = buf.slice(i + 2);
                  let data = [], event = "message";
                  for (const line of block.split("\n")) {
                    if (line.startsWith("data: ")) data.push(line.slice(6)); else if (line.startsWith("id: ")) state.lastId = line.slice(4);
                    else if (line.startsWith("event: ")) event = line.slice(7);
                  }
                  if (data.length) onMessage(event, data.join("\n"));
                }
              }
            } catch (e) { if (signal.aborted) return; }
            if (state.onClose) state.onClose();
            await new Promise((r) => setTimeout(r, delay)); delay = Math.min(delay * 2, 5000);
          }
        }
        const eventState = { lastId: null, onOpen: () => { setUp(true); refresh(); }, onClose: () => setUp(false) };
        let eventAbort = new AbortController();
        function restartStreams() { eventAbort.abort(); eventAbort = new AbortController(); stream("/api/v1/events", eventState, (ev, data) => { if (ev === "message") onEvent(JSON.parse(data)); }, eventAbort.signal); followLog(); }
        function followLog() {
          if (!S.logName) return;
          if (S.logAbort) S.logAbort.abort();
          S.logAbort = new AbortController(); $("log").textContent = "";
          const name = S.logName; const state = { onOpen: () => { $("logState").textContent = "following"; $("log").textContent = ""; },
            onClose: () => { $("logState").textContent = "reconnecting…"; } };
          stream(`/api/v1/logs/${encodeURIComponent(name)}/stream?lines=50`, state, (ev, data) => {
            if (ev !== "message") return;
            const log = $("log"); const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
            log.appendChild(document.createTextNode(data + "\n"));
            while (log.childNodes.length > 500) log.firstChild.remove();
            if (atEnd) log.scrollTop = log.scrollHeight;
          }, S.logAbort.signal);
        }
        $("logModule").addEventListener("change", (e) => { S.logName = e.target.value; followLog(); });

        refresh();
        setInterval(refresh, 2000);
        loadBacktests();
        setInterval(loadBacktests, 15000);
        restartStreams();
        """#
}
