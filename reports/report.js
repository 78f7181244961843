// Draws the report's timeline from the JSON beside it: one row per
// member (raft state), the store's leader, one row per campaigner
// (belief, and in red what the store does not back), fault windows,
// phases and anomaly marks; then latency and throughput on the same
// time axis. Redrawn on zoom so labels stay readable.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('timeline-data').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  var svg = document.getElementById('timeline');
  var wrap = document.getElementById('timeline-wrap');
  var LABEL = 110, ROW = 18, GAP = 4, AXIS = 24, LAT_H = 150, THR_H = 90, PAD = 24;
  var zoom = 1;

  function el(name, attrs, parent, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function titled(e, text) { el('title', {}, e, text); return e; }
  function fmt(t) { return t.toFixed(t < 10 ? 2 : 1) + 's'; }

  function draw() {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var end = Math.max(data.end, 1);
    var plotW = Math.max(wrap.clientWidth - LABEL - 30, 400) * zoom;
    var x = function (t) { return LABEL + t / end * plotW; };
    var rows = data.rows || [];
    var latTop = AXIS + rows.length * (ROW + GAP) + PAD;
    var thrTop = latTop + LAT_H + PAD;
    var height = thrTop + THR_H + AXIS;
    svg.setAttribute('width', LABEL + plotW + 30);
    svg.setAttribute('height', height);

    // Time axis: about one tick per 100px.
    var step = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600].find(function (s) { return s / end * plotW >= 100; }) || 600;
    for (var t = 0; t <= end; t += step) {
      el('line', { x1: x(t), x2: x(t), y1: AXIS - 4, y2: height - AXIS, class: 'grid' }, svg);
      el('text', { x: x(t) + 2, y: AXIS - 8, class: 'axis' }, svg, fmt(t));
    }
    (data.faults || []).forEach(function (f) {
      var w = Math.max(1, x(f.e) - x(f.s));
      titled(el('rect', { x: x(f.s), y: AXIS, width: w, height: height - 2 * AXIS, class: 'fault' }, svg),
        f.l + ' from ' + fmt(f.s) + ' to ' + fmt(f.e));
      if (w > 60) el('text', { x: x(f.s) + 2, y: height - AXIS + 14, class: 'axis' }, svg, f.l);
    });
    rows.forEach(function (r, i) {
      var y = AXIS + i * (ROW + GAP);
      el('text', { x: 4, y: y + ROW - 5, class: 'rowlabel' }, svg, r.label);
      (r.bars || []).forEach(function (b) {
        var w = Math.max(1, x(b.e) - x(b.s));
        titled(el('rect', { x: x(b.s), y: y, width: w, height: ROW, class: 'bar ' + b.c }, svg),
          (b.t || b.c) + ' (' + fmt(b.s) + ' to ' + fmt(b.e) + ')');
        if (b.l && w > 8 * b.l.length) el('text', { x: x(b.s) + 3, y: y + ROW - 5, class: 'barlabel' }, svg, b.l);
      });
    });
    drawLatency(x, latTop);
    drawThroughput(x, thrTop, end);
    (data.marks || []).forEach(function (m) {
      var line = titled(el('line', { x1: x(m.t), x2: x(m.t), y1: AXIS, y2: height - AXIS, class: 'mark ' + m.c }, svg),
        m.l + ' at ' + m.t.toFixed(3) + 's');
      if (m.h) line.addEventListener('click', function () { location.hash = m.h; });
    });
  }

  function drawLatency(x, top) {
    el('text', { x: 4, y: top + 12, class: 'rowlabel' }, svg, 'latency');
    var pts = data.latency || [];
    var maxMs = 1;
    pts.forEach(function (p) { if (p.ms > maxMs) maxMs = p.ms; });
    var lo = Math.log10(0.1), hi = Math.log10(maxMs * 1.2);
    var y = function (ms) { return top + LAT_H - (Math.log10(Math.max(ms, 0.1)) - lo) / (hi - lo) * LAT_H; };
    [1, 10, 100, 1000, 10000].forEach(function (ms) {
      if (ms > maxMs * 1.2) return;
      el('line', { x1: LABEL, x2: svg.getAttribute('width'), y1: y(ms), y2: y(ms), class: 'grid' }, svg);
      el('text', { x: LABEL - 48, y: y(ms) + 4, class: 'axis' }, svg, ms >= 1000 ? ms / 1000 + ' s' : ms + ' ms');
    });
    pts.forEach(function (p) {
      var kind = p.c.slice(p.c.lastIndexOf('-') + 1);
      titled(el('circle', { cx: x(p.t), cy: y(p.ms), r: 1.6, class: 'pt-' + kind }, svg), p.c + ' ' + p.ms.toFixed(1) + ' ms at ' + fmt(p.t));
    });
  }

  function drawThroughput(x, top, end) {
    el('text', { x: 4, y: top + 12, class: 'rowlabel' }, svg, 'ok ops/s');
    var thr = data.throughput || [];
    var max = 1;
    thr.forEach(function (v) { if (v > max) max = v; });
    var y = function (v) { return top + THR_H - v / max * THR_H; };
    el('text', { x: LABEL - 48, y: top + 10, class: 'axis' }, svg, String(max));
    el('line', { x1: LABEL, x2: svg.getAttribute('width'), y1: top + THR_H, y2: top + THR_H, class: 'grid' }, svg);
    var d = '';
    thr.forEach(function (v, i) { d += (i ? 'L' : 'M') + x(Math.min(i + 0.5, end)) + ' ' + y(v); });
    if (d) titled(el('path', { d: d, class: 'thr' }, svg), 'completed ok operations per second');
  }

  function setZoom(z, centerT) {
    var end = Math.max(data.end, 1);
    var before = wrap.scrollLeft + wrap.clientWidth / 2;
    var plotBefore = Math.max(wrap.clientWidth - LABEL - 30, 400) * zoom;
    var t = centerT !== undefined ? centerT : (before - LABEL) / plotBefore * end;
    zoom = Math.min(Math.max(z, 1), 400);
    draw();
    var plotW = Math.max(wrap.clientWidth - LABEL - 30, 400) * zoom;
    wrap.scrollLeft = LABEL + t / end * plotW - wrap.clientWidth / 2;
  }

  document.getElementById('zoom-in').addEventListener('click', function () { setZoom(zoom * 2); });
  document.getElementById('zoom-out').addEventListener('click', function () { setZoom(zoom / 2); });
  document.getElementById('zoom-fit').addEventListener('click', function () { setZoom(1); });
  wrap.addEventListener('wheel', function (ev) {
    if (!ev.ctrlKey) return;
    ev.preventDefault();
    setZoom(ev.deltaY < 0 ? zoom * 1.25 : zoom / 1.25);
  }, { passive: false });
  // Links from events and faults show that moment, about ten seconds wide.
  Array.prototype.forEach.call(document.querySelectorAll('a[data-t]'), function (a) {
    a.addEventListener('click', function () {
      setZoom(Math.max(data.end / 10, 1), parseFloat(a.getAttribute('data-t')));
    });
  });
  window.addEventListener('resize', draw);
  draw();
})();
