// cexarb dashboard: live state over a WebSocket, history from the JSON APIs.
// Hand-written, no framework and no build step; every value is put into the page as text
// (never as HTML), so nothing from the engine or a venue can inject markup.
"use strict";

const RECENT = 50;
const live = { state: null, opportunities: [], executions: [], series: { pnl: [], exposure: [] },
               killButton: false };

// ---- small DOM helpers -------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function fill(tableId, rows) {
  const body = document.querySelector(`#${tableId} tbody`);
  body.replaceChildren(...rows);
}

function time(ms) {
  if (!ms) return "";
  return new Date(ms).toISOString().slice(11, 23);
}

function num(value, digits) {
  if (value === null || value === undefined || value === "") return "";
  const n = Number(value);
  return Number.isFinite(n) ? n.toFixed(digits) : String(value);
}

function signClass(value) {
  const n = Number(value);
  return n > 0 ? "num pos" : n < 0 ? "num neg" : "num";
}

// ---- live page ---------------------------------------------------------------------------

function renderVenues(venues) {
  fill("venues", venues.map((v) => h("tr", { "data-testid": "venue", "data-venue": v.venue },
    h("td", {}, v.venue),
    h("td", { class: `conn-${v.connection}`, "data-testid": "connection" }, v.connection),
    h("td", { class: "num" }, num(v.msgs_per_s, 0)),
    h("td", {}, v.books.map((b) => h("span", {
      class: `state ${b.state}`, title: b.reason || b.state, "data-testid": "book-state",
      "data-venue": v.venue, "data-symbol": b.symbol,
    }, `${b.symbol} ${b.state}`))),
  )));
}

function renderPrices(prices) {
  fill("prices", prices.map((p) => h("tr", { "data-symbol": p.symbol },
    h("td", {}, p.symbol),
    h("td", { class: "num" }, p.best_bid ? `${p.best_bid.price} ${p.best_bid.venue}` : ""),
    h("td", { class: "num" }, p.best_ask ? `${p.best_ask.price} ${p.best_ask.venue}` : ""),
    h("td", { class: signClass(p.spread_bps) }, num(p.spread_bps, 2)),
    h("td", { class: "legs" }, p.quotes.map((q) => `${q.venue} ${q.bid ?? "-"} / ${q.ask ?? "-"}`)
      .join("  ")),
  )));
}

function renderServices(services) {
  fill("services", services.map((s) => h("tr", { "data-testid": "service" },
    h("td", {}, s.service), h("td", {}, s.instance),
    h("td", { class: `status-${s.status}` }, s.ready ? s.status : `${s.status} (not ready)`),
    h("td", { class: "num" }, s.up_s === null ? "" : `${s.up_s}s`),
    h("td", { class: s.restarts ? "num neg" : "num", "data-testid": "restarts" }, s.restarts),
    h("td", { class: "num" }, s.seen_s === null ? "" : `${s.seen_s}s ago`),
  )));
}

// LIVE share per book against the product's target (> 95 %) and the engine's goal (99.9 %),
// with its venue's connection counts: the view arb status prints (arb_runtime.uptime).
function renderUptime(uptime) {
  if (!uptime) return;
  const target = uptime.target_live_share, goal = uptime.goal_live_share;
  document.getElementById("uptime-targets").textContent =
    `target > ${(target * 100).toFixed(0)} %, goal ${(goal * 100).toFixed(1)} %`;
  const rows = [];
  for (const [venue, entry] of Object.entries(uptime.venues)) {
    const c = entry.connections || {};
    for (const [symbol, b] of Object.entries(entry.books || {})) {
      const mark = b.live_share < target ? "below target" : b.live_share < goal ? "below goal"
        : "ok";
      rows.push(h("tr", { "data-testid": "uptime-book", "data-venue": venue, "data-symbol": symbol },
        h("td", {}, venue), h("td", {}, symbol),
        h("td", { class: "num", "data-testid": "live-share" }, `${(b.live_share * 100).toFixed(3)} %`),
        h("td", { class: `uptime-${mark.replace(" ", "-")}`, "data-testid": "uptime-mark" }, mark),
        h("td", { class: "num" }, `${b.watched_s}s`),
        h("td", { class: "num", title: "not LIVE while the venue was down for maintenance it declared" },
          b.declared_down_s ? `${b.declared_down_s}s` : ""),
        h("td", { class: b.gaps ? "num neg" : "num" }, b.gaps),
        h("td", { class: "num", "data-testid": "rotations" }, c.rotations ?? ""),
        h("td", { class: "num", "data-testid": "failovers" }, c.failovers ?? ""),
        h("td", { class: c.reconnects ? "num neg" : "num", "data-testid": "reconnects" },
          c.reconnects ?? ""),
        h("td", {}, c.standby ? "ready" : "none"),
      ));
    }
  }
  fill("uptime", rows);
}

function legText(leg) {
  const filled = Number(leg.filled) > 0 ? `${leg.filled}@${leg.avg_price}` : "0";
  return `${leg.role} ${leg.side} ${leg.venue} ${leg.status} ${filled} fee ${leg.fee}` +
    (leg.error ? ` (${leg.error})` : "");
}

function renderExecutions() {
  fill("executions", live.executions.map((e) => h("tr", {
    "data-testid": "execution", "data-status": e.status, "data-opportunity": e.opportunity_id,
  },
    h("td", {}, time(e.ts_ms)), h("td", {}, e.symbol),
    h("td", {}, `${e.buy_venue} → ${e.sell_venue}`),
    h("td", { class: `status-${e.status}`, title: e.reason }, e.status),
    h("td", { class: signClass(e.realised_pnl) }, num(e.realised_pnl, 4)),
    h("td", { class: "num" }, num(e.fees, 4)),
    h("td", { class: "legs" }, e.legs.map((leg) => h("div", {}, legText(leg)))),
  )));
}

function renderOpportunities() {
  fill("opportunities", live.opportunities.map((o) => h("tr", { "data-testid": "opportunity" },
    h("td", {}, time(o.ts_ms)), h("td", {}, o.symbol),
    h("td", {}, `${o.buy_venue} → ${o.sell_venue}`), h("td", { class: "num" }, o.size),
    h("td", { class: "num" }, num(o.edge_bps, 1)),
    h("td", { class: signClass(o.net_profit) }, num(o.net_profit, 4)),
  )));
}

function renderSummary(state) {
  const pnl = state.pnl || {};
  const books = state.venues.flatMap((v) => v.books);
  const liveBooks = books.filter((b) => b.state === "LIVE").length;
  const items = [
    ["books LIVE", `${liveBooks} / ${books.length}`],
    ["opportunities", pnl.opportunities ?? 0],
    ["executions", pnl.executions ?? 0],
    ["unhedged", pnl.unhedged ?? 0],
    ["realised PnL", num(pnl.realised, 4)],
    ["open exposure", num(state.exposure ? state.exposure.total : 0, 2)],
  ];
  document.getElementById("summary").replaceChildren(...items.map(([label, value]) =>
    h("div", { "data-testid": `summary-${label.replace(/\s+/g, "-")}` }, label, h("b", {}, value))));
  const open = (state.exposure && state.exposure.open) || [];
  document.getElementById("exposure-open").textContent = open.length
    ? open.map((e) => `${e.kind} ${e.venue} ${e.asset} ${e.size} (${e.quote_value})`).join("; ")
    : "nothing open";
}

function drawChart(svgId, points) {
  const svg = document.getElementById(svgId);
  const ns = "http://www.w3.org/2000/svg";
  const width = 600, height = 160, pad = 8;
  svg.replaceChildren();
  if (points.length < 2) return;
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  let y0 = Math.min(0, ...ys), y1 = Math.max(0, ...ys);
  if (y1 === y0) y1 = y0 + 1;
  const sx = (x) => pad + (x1 === x0 ? 0 : (x - x0) / (x1 - x0)) * (width - 2 * pad);
  const sy = (y) => height - pad - ((y - y0) / (y1 - y0)) * (height - 2 * pad);
  const zero = document.createElementNS(ns, "line");
  zero.setAttribute("x1", 0); zero.setAttribute("x2", width);
  zero.setAttribute("y1", sy(0)); zero.setAttribute("y2", sy(0));
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", points.map((p) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`)
    .join(" "));
  svg.append(zero, line);
  const title = document.createElementNS(ns, "title");
  title.textContent = `min ${y0.toFixed(2)}  max ${y1.toFixed(2)}  last ${ys[ys.length - 1].toFixed(2)}`;
  svg.append(title);
}

function renderKill(kill) {
  const state = document.getElementById("kill-state");
  state.textContent = kill && kill.engaged ? `ENGAGED (${kill.reason})` : "off";
  state.className = kill && kill.engaged ? "engaged" : "";
  document.getElementById("kill-button").disabled = !live.killButton;
  document.getElementById("resume-button").disabled = !live.killButton || !(kill && kill.engaged);
}

function renderState() {
  const state = live.state;
  if (!state || !state.venues) return;
  renderVenues(state.venues);
  renderPrices(state.prices);
  renderServices(state.services);
  renderUptime(state.uptime);
  renderSummary(state);
  renderKill(state.kill);
  drawChart("pnl-chart", live.series.pnl);
  drawChart("exposure-chart", live.series.exposure);
}

function pushSeries(name, point) {
  const series = live.series[name];
  series.push(point);
  if (series.length > 2000) series.shift();
}

function onMessage(message) {
  switch (message.type) {
    case "hello":
      live.state = message.state;
      live.opportunities = message.opportunities.slice(-RECENT).reverse();
      live.executions = message.executions.slice(-RECENT).reverse();
      live.series = message.series;
      live.killButton = message.kill_button;
      renderOpportunities();
      renderExecutions();
      renderState();
      break;
    case "state":
      live.state = message;
      pushSeries("exposure", [message.point.ts_ms, message.point.exposure]);
      renderState();
      break;
    case "opportunity":
      live.opportunities.unshift(message.item);
      live.opportunities.length = Math.min(live.opportunities.length, RECENT);
      renderOpportunities();
      break;
    case "execution":
      live.executions.unshift(message.item);
      live.executions.length = Math.min(live.executions.length, RECENT);
      pushSeries("pnl", [message.item.ts_ms, (live.series.pnl.at(-1) || [0, 0])[1] +
        Number(message.item.realised_pnl)]);
      renderExecutions();
      break;
  }
}

function connect() {
  const status = document.getElementById("ws-status");
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/ws`);
  ws.onopen = () => { status.textContent = "live"; status.className = "pill up"; };
  ws.onmessage = (event) => onMessage(JSON.parse(event.data));
  ws.onclose = () => {
    status.textContent = "reconnecting"; status.className = "pill down";
    setTimeout(connect, 1000);
  };
}

// ---- kill switch -------------------------------------------------------------------------

function token() {
  const input = document.getElementById("kill-token");
  if (input.value) sessionStorage.setItem("arb-kill-token", input.value);
  return input.value || sessionStorage.getItem("arb-kill-token") || "";
}

async function killSwitch(path, body) {
  const message = document.getElementById("kill-message");
  message.textContent = "…";
  try {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token()}` },
      body: JSON.stringify(body || {}),
    });
    const answer = await response.json();
    message.textContent = response.ok ? (answer.engaged ? "engaged" : "released") : answer.error;
    if (response.ok && live.state) { live.state.kill = answer; renderKill(answer); }
  } catch (error) {
    message.textContent = `failed: ${error}`;
  }
}

// ---- history pages -----------------------------------------------------------------------

function query(form) {
  const params = new URLSearchParams();
  for (const [key, value] of new FormData(form)) if (value) params.set(key, value);
  return params;
}

async function getJson(url, messageId) {
  const message = document.getElementById(messageId);
  message.textContent = "loading…";
  const response = await fetch(url);
  const answer = await response.json();
  message.textContent = response.ok ? "" : answer.error;
  return response.ok ? answer : null;
}

async function showTrades(event) {
  if (event) event.preventDefault();
  const params = query(document.getElementById("trades-form"));
  const csv = new URLSearchParams(params); csv.set("format", "csv");
  document.getElementById("trades-csv").href = `/api/trades?${csv}`;
  const answer = await getJson(`/api/trades?${params}`, "trades-message");
  if (!answer) return;
  const trades = answer.trades.slice().reverse();
  document.getElementById("trades-message").textContent = `${trades.length} result(s)`;
  fill("trades", trades.map((t) => h("tr", { "data-testid": "trade" },
    h("td", {}, t.time), h("td", {}, t.symbol), h("td", {}, `${t.buy_venue} → ${t.sell_venue}`),
    h("td", { class: `status-${t.status}` }, t.status),
    h("td", { class: signClass(t.realised_pnl) }, t.realised_pnl),
    h("td", { class: "num" }, t.fees_quote),
    h("td", { class: "num" }, Number(t.unhedged_size) ? t.unhedged_size : ""),
    h("td", { class: "legs" }, t.legs.map((leg) => h("div", {}, legText({
      ...leg, filled: leg.filled_size })))),
    h("td", { class: "muted" }, t.reason),
  )));
}

function pnlTable(title, buckets) {
  const columns = ["key", "trades", "win_rate", "realised", "unrealised", "marked_to_market",
    "fees", "expected", "slippage", "slippage_bps", "refused", "unhedged"];
  return h("div", {}, h("h2", {}, title), h("table", {},
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", {}, c.replaceAll("_", " "))))),
    h("tbody", {}, buckets.map((b) => h("tr", { "data-testid": "pnl-row" }, columns.map((c) =>
      h("td", { class: c === "key" ? "" : "num" },
        c === "win_rate" && b[c] !== null ? `${(b[c] * 100).toFixed(1)}%` : b[c] ?? "-")))))));
}

async function showPnl(event) {
  if (event) event.preventDefault();
  const answer = await getJson(`/api/pnl?${query(document.getElementById("pnl-form"))}`,
    "pnl-message");
  if (!answer) return;
  document.getElementById("pnl-report").replaceChildren(
    pnlTable("total", [answer.total]), pnlTable("by day", answer.by_day),
    pnlTable("by venue pair", answer.by_pair), pnlTable("by symbol", answer.by_symbol));
}

function showTab(name) {
  for (const tab of document.querySelectorAll("button.tab")) {
    tab.classList.toggle("active", tab.dataset.tab === name);
  }
  for (const page of document.querySelectorAll(".page")) {
    page.classList.toggle("hidden", page.id !== `tab-${name}`);
  }
  if (name === "trades") showTrades();
  if (name === "pnl") showPnl();
}

// ---- start -------------------------------------------------------------------------------

(function start() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("token")) {  // `arb run` prints the URL with #token=...: keep it, hide it
    sessionStorage.setItem("arb-kill-token", fragment.get("token"));
    history.replaceState(null, "", location.pathname + location.search);
  }
  document.getElementById("kill-button").onclick = () => killSwitch("/api/kill",
    { reason: "dashboard button" });
  document.getElementById("resume-button").onclick = () => killSwitch("/api/resume");
  document.getElementById("trades-form").onsubmit = showTrades;
  document.getElementById("pnl-form").onsubmit = showPnl;
  for (const tab of document.querySelectorAll("button.tab")) {
    tab.onclick = () => showTab(tab.dataset.tab);
  }
  connect();
})();
