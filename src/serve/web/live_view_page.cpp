// The page listens to /events (EventSource) and, per frame record: shows the count, loads /frame.jpg (one request
// at a time, always the newest frame), updates the zone table and the alert list, and redraws the count-over-time
// plot (the last 300 frames, total and zones). The "history" event that opens each stream redraws it all from the
// recent records. It keeps the last 1000 frame records it received, one JSON line each, in <pre id="received">
// (hidden), and their number in <body data-events>, so that a script or a test can read them.
#include "serve/web/live_view_page.h"

namespace crowdrt::serve {

std::string_view live_view_page() {
  static constexpr std::string_view page = R"page(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>crowdrt live</title>
<style>
  body { margin: 0; font-family: system-ui, sans-serif; background: #15171a; color: #e8e8e8; }
  header { display: flex; gap: 2em; align-items: baseline; padding: .5em 1em; background: #23262b; }
  header h1 { font-size: 1.1em; margin: 0; }
  #count { font-size: 2em; font-weight: bold; }
  #status.off { color: #ff6b6b; }
  main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(16em, 2fr); gap: 1em; padding: 1em; }
  #plot-section { grid-column: 1 / -1; }
  h2 { font-size: 1em; margin: .2em 0 .5em; color: #aab; }
  #overlay { display: block; width: 100%; height: 52vh; object-fit: contain; background: #000; }
  #plot { display: block; width: 100%; height: 30vh; min-height: 8em; background: #1c1f24; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .25em .5em; border-bottom: 1px solid #333; }
  td.number { text-align: right; font-variant-numeric: tabular-nums; }
  tr.alerting td { color: #ff6b6b; font-weight: bold; }
  #alerts { list-style: none; padding: 0; margin: 0; max-height: 30vh; overflow: auto; font-size: .9em; }
  #alerts .enter { color: #ff6b6b; }
  #alerts .leave { color: #7bd88f; }
</style>
</head>
<body data-events="0">
<header>
  <h1>crowdrt live</h1>
  <span>count <span id="count">–</span></span>
  <span>frame <span id="frame">–</span></span>
  <span id="status">connecting…</span>
</header>
<main>
  <section><img id="overlay" alt="the latest frame with its density overlay"></section>
  <section>
    <h2>Zones</h2>
    <table><thead><tr><th>zone</th><th>count</th><th>state</th></tr></thead><tbody id="zones"></tbody></table>
    <h2 style="margin-top: 1em">Alerts</h2>
    <ul id="alerts"></ul>
  </section>
  <section id="plot-section"><canvas id="plot"></canvas></section>
</main>
<pre id="received" hidden></pre>
<script>
"use strict";
const plotFrames = 300, keptRecords = 1000, keptAlerts = 50;
const colours = ["#4fa3ff", "#ffb347", "#7bd88f", "#d291ff", "#ff6b6b", "#5ee0e0", "#f2e35c"];
const byId = (id) => document.getElementById(id);
const plotted = [];                 // the last plotFrames records
const zoneRows = new Map();         // zone name -> its table row
const alerting = new Set();         // zones in alert now
let received = 0;

// The overlay: one /frame.jpg request at a time; when it ends, the newest frame seen meanwhile is asked for.
const image = byId("overlay");
let wantedFrame = 0, requestedFrame = 0, loading = false;
function loadImage() {
  if (loading || wantedFrame === requestedFrame) return;
  loading = true;
  requestedFrame = wantedFrame;
  image.src = "frame.jpg?frame=" + wantedFrame;
}
image.addEventListener("load", () => { loading = false; loadImage(); });
image.addEventListener("error", () => { loading = false; requestedFrame = 0; setTimeout(loadImage, 500); });

function keepRecord(line) {
  const pre = byId("received");
  pre.appendChild(document.createTextNode(line + "\n"));
  if (pre.childNodes.length > keptRecords) pre.removeChild(pre.firstChild);
  document.body.dataset.events = String(++received);
}

function showZones(record) {
  const body = byId("zones");
  for (const [name, count] of Object.entries(record.zones)) {
    let row = zoneRows.get(name);
    if (!row) {
      row = body.insertRow();
      row.dataset.zone = name;
      for (let i = 0; i < 3; ++i) row.insertCell();
      row.cells[0].textContent = name;
      row.cells[1].className = "number";
      zoneRows.set(name, row);
    }
    row.cells[1].textContent = count.toFixed(1);
  }
  for (const alert of record.alerts) {
    if (alert.event === "enter") alerting.add(alert.zone); else alerting.delete(alert.zone);
    const item = document.createElement("li");
    item.className = alert.event;
    item.textContent =
      `frame ${record.frame}: ${alert.zone} ${alert.event} (${alert.count.toFixed(1)}, limit ${alert.limit})`;
    const list = byId("alerts");
    list.insertBefore(item, list.firstChild);
    if (list.childNodes.length > keptAlerts) list.removeChild(list.lastChild);
  }
  for (const [name, row] of zoneRows) {
    row.className = alerting.has(name) ? "alerting" : "";
    row.cells[2].textContent = alerting.has(name) ? "ALERT" : "";
  }
}

// The count over time: the total and each zone, over the last plotFrames frames.
let drawPending = false;
function drawPlot() {
  drawPending = false;
  const canvas = byId("plot"), scale = window.devicePixelRatio || 1;
  canvas.width = Math.round(canvas.clientWidth * scale);
  canvas.height = Math.round(canvas.clientHeight * scale);
  const g = canvas.getContext("2d");
  g.setTransform(scale, 0, 0, scale, 0, 0);
  const w = canvas.clientWidth, h = canvas.clientHeight, left = 48, right = 8, top = 22, bottom = 20;
  g.clearRect(0, 0, w, h);
  if (plotted.length === 0) return;
  const names = ["count", ...Object.keys(plotted[plotted.length - 1].zones)];
  const value = (r, name) => name === "count" ? r.count : (r.zones[name] ?? NaN);
  let low = 0, high = 0;
  for (const r of plotted) {
    for (const n of names) { const v = value(r, n); if (v > high) high = v; if (v < low) low = v; }
  }
  if (high - low <= 0) high = low + 1;
  high += (high - low) * 0.1;
  const first = plotted[0].frame, last = plotted[plotted.length - 1].frame, span = Math.max(last - first, 1);
  const x = (frame) => left + (w - left - right) * (frame - first) / span;
  const y = (v) => h - bottom - (h - top - bottom) * (v - low) / (high - low);
  g.strokeStyle = "#444"; g.fillStyle = "#aab"; g.font = "11px sans-serif"; g.lineWidth = 1;
  g.beginPath(); g.moveTo(left, top); g.lineTo(left, h - bottom); g.lineTo(w - right, h - bottom); g.stroke();
  g.textAlign = "right";
  g.fillText(high.toFixed(1), left - 4, top + 4);
  g.fillText(low < -0.05 ? low.toFixed(1) : "0", left - 4, h - bottom);
  if (low < 0) { g.beginPath(); g.moveTo(left, y(0)); g.lineTo(w - right, y(0)); g.stroke(); }
  g.textAlign = "left"; g.fillText("frame " + first, left, h - 5);
  g.textAlign = "right"; g.fillText("frame " + last, w - right, h - 5);
  let legend = left + 4;
  names.forEach((name, i) => {
    g.strokeStyle = g.fillStyle = colours[i % colours.length];
    g.lineWidth = name === "count" ? 2 : 1.5;
    g.beginPath();
    plotted.forEach((r, j) => {
      const px = x(r.frame), py = y(value(r, name));
      j ? g.lineTo(px, py) : g.moveTo(px, py);
    });
    g.stroke();
    g.textAlign = "left";
    g.fillText(name, legend, 14);
    legend += g.measureText(name).width + 16;
  });
}

function show(record) {
  byId("count").textContent = record.count.toFixed(1);
  byId("frame").textContent = record.frame;
  showZones(record);
  plotted.push(record);
  if (plotted.length > plotFrames) plotted.shift();
  if (!drawPending) { drawPending = true; requestAnimationFrame(drawPlot); }
  wantedFrame = record.frame;
  loadImage();
}

// A stream (re)opened: start again from the records the server remembers.
function showHistory(records) {
  plotted.length = 0;
  alerting.clear();
  byId("alerts").replaceChildren();
  for (const record of records) show(record);
}

const events = new EventSource("events");
const statusLine = byId("status");
events.onopen = () => { statusLine.textContent = "live"; statusLine.className = ""; };
events.onerror = () => { statusLine.textContent = "disconnected, retrying"; statusLine.className = "off"; };
events.addEventListener("history", (e) => showHistory(JSON.parse(e.data)));
events.onmessage = (e) => { keepRecord(e.data); show(JSON.parse(e.data)); };
window.addEventListener("resize", () => { if (!drawPending) { drawPending = true; requestAnimationFrame(drawPlot); } });
</script>
</body>
</html>
)page";
  return page;
}

}  // namespace crowdrt::serve
