// Draws the report's timeline from the JSON beside it. From the top:
// the time axis (seconds from the workload's start, with ticks), the
// phases' labels, the faults' labels (kind:rule and targets) and the
// anomalies' numbers, each group in lanes so that no two labels
// collide; then one row per member (raft state), the store's leader,
// one row per campaigner (belief; what the store does not back in its
// own colour; the bad act of an anomaly in red, numbered like its
// story); then latency and throughput on the same axis. Redrawn on zoom
// so labels stay readable. Also names porcupine's clients and lets its
// frame take the height it needs.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('timeline-data').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  var svg = document.getElementById('timeline');
  var wrap = document.getElementById('timeline-wrap');
  var LABEL = 110, RIGHT = 30, ROW = 18, GAP = 4, LANE = 15, LAT_H = 150, THR_H = 90, PAD = 24, SEP = 8;
  var zoom = 1;

  function el(name, attrs, parent, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function titled(e, text) { el('title', {}, e, text); return e; }
  function fmt(t) { return (Math.abs(t) < 10 ? t.toFixed(2) : t.toFixed(1)) + ' s'; }
  function tickLabel(t, step) { return step < 1 ? t.toFixed(1) : String(Math.round(t)); }

  // measure gives a label's drawn width.
  var scratch;
  function measure(text, cls) {
    scratch.setAttribute('class', cls || '');
    scratch.textContent = text;
    return scratch.getComputedTextLength();
  }

  // lanes places labels (x, w) left to right in the fewest lanes in
  // which none overlaps another; it returns the number of lanes used.
  function lanes(items) {
    var ends = [];
    items.sort(function (a, b) { return a.x - b.x; });
    items.forEach(function (it) {
      var i = 0;
      while (i < ends.length && ends[i] + SEP > it.x) i++;
      ends[i] = it.x + it.w;
      it.lane = i;
    });
    return ends.length;
  }

  function draw() {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    scratch = el('text', { x: -1000, y: -1000 }, svg);
    var t0 = Math.min(data.start || 0, 0), t1 = Math.max(data.end, t0 + 1), span = t1 - t0;
    var plotW = Math.max(wrap.clientWidth - LABEL - RIGHT - 2, 300) * zoom;
    var width = LABEL + plotW + RIGHT;
    var x = function (t) { return LABEL + (t - t0) / span * plotW; };
    // clampX keeps a label of width w inside the plot.
    var clampX = function (px, w) { return Math.max(LABEL, Math.min(px, width - w - 2)); };
    var rows = data.rows || [];

    // Phases: those closer than a label's width share one label.
    var phases = [];
    (data.marks || []).forEach(function (m) {
      var last = phases[phases.length - 1];
      if (last && x(m.t) - last.px < last.w + SEP) {
        last.l += ' · ' + m.l;
        last.w = measure(last.l, 'phaselabel');
        last.x = clampX(last.px, last.w);
        return;
      }
      var w = measure(m.l, 'phaselabel');
      phases.push({ px: x(m.t), x: clampX(x(m.t), w), w: w, l: m.l, t: m.t });
    });
    var faults = (data.faults || []).map(function (f) {
      var w = measure(f.l, 'faultlabel');
      return { f: f, x: clampX(x(f.s), w), w: w };
    });
    var acts = (data.acts || []).map(function (a) {
      return { a: a, x: clampX(x(a.t) - 8, 16), w: 16 };
    });
    var phaseLanes = lanes(phases), faultLanes = lanes(faults), actLanes = lanes(acts);

    var axisY = 16;
    var phaseTop = axisY + 8, faultTop = phaseTop + phaseLanes * LANE, actTop = faultTop + faultLanes * LANE;
    var rowsTop = actTop + actLanes * (LANE + 3) + 6;
    var rowsBottom = rowsTop + rows.length * (ROW + GAP);
    var latTop = rowsBottom + PAD;
    var thrTop = latTop + LAT_H + PAD;
    var height = thrTop + THR_H + 12;
    svg.setAttribute('width', width);
    svg.setAttribute('height', height);

    // Time axis: a tick about every 80 px, labelled above.
    var step = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200].find(function (s) { return s / span * plotW >= 80; }) || 1200;
    el('text', { x: 4, y: axisY - 4, class: 'axis' }, svg, 'time (s)');
    el('line', { x1: LABEL, x2: x(t1), y1: axisY, y2: axisY, class: 'tick' }, svg);
    for (var t = Math.ceil(t0 / step) * step; t <= t1 + 1e-9; t += step) {
      el('line', { x1: x(t), x2: x(t), y1: axisY, y2: height, class: 'grid' }, svg);
      el('line', { x1: x(t), x2: x(t), y1: axisY - 3, y2: axisY + 3, class: 'tick' }, svg);
      var lbl = tickLabel(t, step), lw = measure(lbl, 'axis');
      el('text', { x: Math.min(x(t) - lw / 2, width - lw - 2), y: axisY - 4, class: 'axis' }, svg, lbl);
    }
    if (phases.length) el('text', { x: 4, y: phaseTop + LANE - 4, class: 'rowlabel' }, svg, 'phases');
    phases.forEach(function (p) {
      el('text', { x: p.x, y: phaseTop + p.lane * LANE + LANE - 4, class: 'phaselabel' }, svg, p.l);
      el('line', { x1: p.px, x2: p.px, y1: phaseTop + p.lane * LANE + LANE - 2, y2: thrTop + THR_H, class: 'mark phase' }, svg);
    });
    if (faults.length) el('text', { x: 4, y: faultTop + LANE - 4, class: 'rowlabel' }, svg, 'faults');
    var rowIndex = {};
    rows.forEach(function (r, i) { rowIndex[r.label] = i; });
    var rowY = function (i) { return rowsTop + i * (ROW + GAP); };
    faults.forEach(function (it) {
      var f = it.f, w = Math.max(1, x(f.e) - x(f.s)), ly = faultTop + it.lane * LANE;
      titled(el('rect', { x: x(f.s), y: ly + LANE - 2, width: w, height: rowsBottom - ly - LANE + 2, class: 'fault' }, svg),
        f.t + ' from ' + fmt(f.s) + ' to ' + fmt(f.e));
      (f.r || []).forEach(function (target) {
        if (rowIndex[target] === undefined) return;
        titled(el('rect', { x: x(f.s), y: rowY(rowIndex[target]) - GAP / 2, width: w, height: ROW + GAP, class: 'fault-hit' }, svg),
          f.t + ' from ' + fmt(f.s) + ' to ' + fmt(f.e));
      });
      titled(el('text', { x: it.x, y: ly + LANE - 4, class: 'faultlabel' }, svg, f.l), f.t + ' from ' + fmt(f.s) + ' to ' + fmt(f.e));
    });
    rows.forEach(function (r, i) {
      var y = rowY(i);
      el('text', { x: 4, y: y + ROW - 5, class: 'rowlabel' }, svg, r.label);
      (r.bars || []).forEach(function (b) {
        var w = Math.max(1, x(b.e) - x(b.s));
        titled(el('rect', { x: x(b.s), y: y, width: w, height: ROW, class: 'bar ' + b.c }, svg),
          (b.t || b.c) + ' (' + fmt(b.s) + ' to ' + fmt(b.e) + ')');
        if (b.l && w > 6 * b.l.length && measure(b.l, 'barlabel') + 6 <= w) {
          el('text', { x: x(b.s) + 3, y: y + ROW - 5, class: 'barlabel' }, svg, b.l);
        }
      });
    });
    if (acts.length) el('text', { x: 4, y: actTop + LANE - 2, class: 'rowlabel' }, svg, 'anomalies');
    acts.forEach(function (it) {
      var a = it.a, cx = it.x + 8, cy = actTop + it.lane * (LANE + 3) + LANE / 2 + 1;
      var ri = rowIndex[a.row];
      var y = ri === undefined ? rowsTop : rowY(ri);
      var go = function () { location.hash = a.h; };
      el('line', { x1: cx, x2: x(a.t), y1: cy, y2: y, class: 'actline' }, svg);
      if (ri !== undefined) {
        var bad = titled(el('rect', { x: x(a.s), y: y + 2, width: Math.max(3, x(a.t) - x(a.s)), height: ROW - 4, class: 'act' }, svg),
          a.n + '. ' + a.l);
        bad.addEventListener('click', go);
      }
      var badge = titled(el('circle', { cx: cx, cy: cy, r: 8, class: 'act' }, svg), a.n + '. ' + a.l);
      badge.addEventListener('click', go);
      el('text', { x: cx, y: cy + 4, class: 'numlabel' }, svg, String(a.n));
    });
    drawLatency(x, latTop, width);
    drawThroughput(x, thrTop, width, t0);
    svg.removeChild(scratch);
  }

  function drawLatency(x, top, width) {
    el('text', { x: 4, y: top + 12, class: 'rowlabel' }, svg, 'latency');
    var pts = data.latency || [];
    var maxMs = 1;
    pts.forEach(function (p) { if (p.ms > maxMs) maxMs = p.ms; });
    var lo = Math.log10(0.1), hi = Math.log10(maxMs * 1.2);
    var y = function (ms) { return top + LAT_H - (Math.log10(Math.max(ms, 0.1)) - lo) / (hi - lo) * LAT_H; };
    [1, 10, 100, 1000, 10000].forEach(function (ms) {
      if (ms > maxMs * 1.2) return;
      el('line', { x1: LABEL, x2: width, y1: y(ms), y2: y(ms), class: 'grid' }, svg);
      var l = ms >= 1000 ? ms / 1000 + ' s' : ms + ' ms';
      el('text', { x: LABEL - 6 - measure(l, 'axis'), y: y(ms) + 4, class: 'axis' }, svg, l);
    });
    pts.forEach(function (p) {
      var kind = p.c.slice(p.c.lastIndexOf('-') + 1);
      titled(el('circle', { cx: x(p.t), cy: y(p.ms), r: 1.6, class: 'pt-' + kind }, svg), p.c + ' ' + p.ms.toFixed(1) + ' ms at ' + fmt(p.t));
    });
  }

  function drawThroughput(x, top, width, t0) {
    el('text', { x: 4, y: top + 12, class: 'rowlabel' }, svg, 'ok ops/s');
    var thr = data.throughput || [];
    var max = 1;
    thr.forEach(function (v) { if (v > max) max = v; });
    var y = function (v) { return top + THR_H - v / max * THR_H; };
    var l = String(max);
    el('text', { x: LABEL - 6 - measure(l, 'axis'), y: top + 10, class: 'axis' }, svg, l);
    el('line', { x1: LABEL, x2: width, y1: top + THR_H, y2: top + THR_H, class: 'grid' }, svg);
    var d = '', start = data.start || 0;
    thr.forEach(function (v, i) { d += (i ? 'L' : 'M') + x(Math.min(start + i + 0.5, data.end)) + ' ' + y(v); });
    if (d) titled(el('path', { d: d, class: 'thr' }, svg), 'completed ok operations per second');
  }

  function geometry() {
    var t0 = Math.min(data.start || 0, 0), span = Math.max(data.end, t0 + 1) - t0;
    return { t0: t0, span: span, plotW: Math.max(wrap.clientWidth - LABEL - RIGHT - 2, 300) * zoom };
  }

  function setZoom(z, centerT) {
    var g = geometry();
    var t = centerT !== undefined ? centerT : g.t0 + (wrap.scrollLeft + wrap.clientWidth / 2 - LABEL) / g.plotW * g.span;
    zoom = Math.min(Math.max(z, 1), 400);
    draw();
    g = geometry();
    wrap.scrollLeft = LABEL + (t - g.t0) / g.span * g.plotW - wrap.clientWidth / 2;
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
      setZoom(Math.max((data.end - Math.min(data.start || 0, 0)) / 10, 1), parseFloat(a.getAttribute('data-t')));
    });
  });
  window.addEventListener('resize', draw);
  draw();

  // porcupine numbers its clients from 0: name them as the campaigners'
  // processes, and give its frame the height of what it drew (the
  // nemesis row is its last).
  Array.prototype.forEach.call(document.querySelectorAll('iframe.porcupine'), function (f) {
    var names = JSON.parse(f.getAttribute('data-clients') || '[]');
    var tries = 0;
    function fix() {
      var d = f.contentDocument;
      var canvas = d && d.querySelector('#canvas svg');
      if (!canvas) {
        if (tries++ < 50) setTimeout(fix, 100);
        return;
      }
      Array.prototype.forEach.call(canvas.querySelectorAll('g text[text-anchor="end"]'), function (t) {
        var n = Number(t.textContent);
        if (t.textContent !== '' && Number.isInteger(n) && n >= 0 && n < names.length) t.textContent = names[n];
      });
      f.style.height = (d.documentElement.scrollHeight + 8) + 'px';
      f.setAttribute('data-named', 'true');
    }
    f.addEventListener('load', fix);
    if (f.contentDocument && f.contentDocument.readyState === 'complete') fix();
  });
})();
