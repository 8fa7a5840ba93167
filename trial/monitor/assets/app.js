// The m4sc live monitor: server-sent events from /events drawn on canvases.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  let updates = 0;
  const count = () => { updates++; document.body.dataset.updates = String(updates); };

  // Spectrum and waterfall: dB from lo to hi mapped on the canvas.
  const lo = -110, hi = -20;
  function drawSpectrum(db) {
    const c = $("spectrum"), g = c.getContext("2d");
    g.fillStyle = "#0b0e13"; g.fillRect(0, 0, c.width, c.height);
    g.strokeStyle = "#2a3140"; g.lineWidth = 1;
    for (let v = lo; v <= hi; v += 10) {
      const y = c.height * (hi - v) / (hi - lo);
      g.beginPath(); g.moveTo(0, y); g.lineTo(c.width, y); g.stroke();
    }
    g.strokeStyle = "#5fb3f9"; g.lineWidth = 1.5; g.beginPath();
    db.forEach((v, i) => {
      const x = c.width * i / (db.length - 1);
      const y = c.height * (hi - Math.max(lo, Math.min(hi, v))) / (hi - lo);
      i ? g.lineTo(x, y) : g.moveTo(x, y);
    });
    g.stroke();
    g.fillStyle = "#8a94a6"; g.font = "10px sans-serif";
    g.fillText("-10 MHz", 2, c.height - 3); g.fillText("+10 MHz", c.width - 44, c.height - 3);
    g.fillText(hi + " dB", 2, 10);
    // Waterfall: shift down one row, draw the new one on top.
    const w = $("waterfall"), h = w.getContext("2d");
    const rows = 3; // pixels per spectrum
    h.drawImage(w, 0, 0, w.width, w.height - rows, 0, rows, w.width, w.height - rows);
    const row = h.createImageData(w.width, rows);
    for (let x = 0; x < w.width; x++) {
      const v = db[Math.floor(x * db.length / w.width)];
      const t = Math.max(0, Math.min(1, (v - lo) / (hi - lo)));
      const [r, gg, b] = heat(t);
      for (let k = 0; k < rows; k++) row.data.set([r, gg, b, 255], 4 * (k * w.width + x));
    }
    h.putImageData(row, 0, 0);
  }
  function heat(t) {
    // dark blue -> cyan -> yellow -> red
    const r = Math.round(255 * Math.min(1, Math.max(0, 2 * t - 0.6)));
    const g = Math.round(255 * Math.min(1, Math.max(0, t < 0.75 ? 1.6 * t : 4 * (1 - t))));
    const b = Math.round(255 * Math.min(1, Math.max(0, 0.6 - t + 0.4 * (1 - t))));
    return [r, g, b];
  }

  function drawFrame(f) {
    const c = $("constellation"), g = c.getContext("2d"), n = c.width;
    g.fillStyle = "#0b0e13"; g.fillRect(0, 0, n, n);
    g.strokeStyle = "#2a3140";
    g.beginPath(); g.moveTo(n / 2, 0); g.lineTo(n / 2, n); g.moveTo(0, n / 2); g.lineTo(n, n / 2); g.stroke();
    const s = n / 4; // full scale: |x| = 2
    g.fillStyle = "#7fd18b";
    for (const [re, im] of f.points || []) {
      g.fillRect(n / 2 + re * s - 1, n / 2 - im * s - 1, 2.5, 2.5);
    }
    $("framekind").textContent = f.kind + " payload";
    $("frameinfo").textContent = "SNR " + f.snr_db + " dB, CFO " + f.cfo_hz + " Hz, EVM " + f.evm_db + " dB, " + (f.points || []).length + " points";
    const b = $("subcarriers"), h = b.getContext("2d");
    h.fillStyle = "#0b0e13"; h.fillRect(0, 0, b.width, b.height);
    const sc = f.subcarrier_snr_db || [], top = 50, bw = b.width / Math.max(1, sc.length);
    h.strokeStyle = "#2a3140"; h.fillStyle = "#8a94a6"; h.font = "10px sans-serif";
    for (let v = 0; v <= top; v += 10) {
      const y = b.height * (1 - v / top);
      h.beginPath(); h.moveTo(0, y); h.lineTo(b.width, y); h.stroke();
      h.fillText(v + "", 2, Math.max(10, y - 2));
    }
    sc.forEach((v, i) => {
      const hgt = b.height * Math.max(0, Math.min(top, v)) / top;
      h.fillStyle = v < 10 ? "#f07178" : "#5fb3f9";
      h.fillRect(i * bw + 1, b.height - hgt, bw - 2, hgt);
    });
  }

  function addMessage(m) {
    const li = document.createElement("li");
    li.className = "msg";
    const tag = document.createElement("span");
    tag.className = "tag";
    tag.textContent = "run " + m.run + (m.user !== undefined ? " · user " + m.user : "") + " · " + m.scheme + (m.snr_db !== undefined ? " · " + m.snr_db + " dB" : "") + " · " + m.task;
    li.appendChild(tag);
    if (m.image) {
      const img = document.createElement("img");
      img.src = m.image; img.alt = "reconstructed image";
      li.appendChild(img);
    }
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = (m.question ? m.question + " → " : "") + (m.received || "(nothing received)");
    li.appendChild(text);
    const val = document.createElement("span");
    val.className = "value" + (m.frames_lost > 0 ? " lost" : "");
    val.textContent = (m.value !== undefined && m.value !== null ? m.metric + " " + m.value.toFixed(3) : "") +
      (m.frames_lost > 0 ? " · lost " + m.frames_lost + "/" + m.frames : "");
    li.appendChild(val);
    const feed = $("feed");
    feed.insertBefore(li, feed.firstChild);
    while (feed.children.length > 200) feed.removeChild(feed.lastChild);
  }

  function drawMetrics(m) {
    const body = $("metrics").tBodies[0];
    body.textContent = "";
    for (const s of m.schemes || []) {
      const tr = document.createElement("tr");
      const loss = s.frames ? (100 * s.frames_lost / s.frames).toFixed(1) + " %" : "-";
      for (const v of [(s.user !== undefined ? "user " + s.user + " · " : "") + s.task, s.scheme, s.messages, s.scored ? s.metric + " " + s.mean.toFixed(3) : "-", s.frames_lost + " of " + s.frames + " (" + loss + ")"]) {
        const td = document.createElement("td"); td.textContent = String(v); tr.appendChild(td);
      }
      body.appendChild(tr);
    }
    $("dropped").textContent = m.dropped ? m.dropped + " display updates dropped to keep up" : "";
  }

  const handlers = {
    hello: (d) => { $("title").textContent = d.title || ""; },
    run: (d) => { $("run").textContent = "run " + (d.index + 1) + (d.total > 0 ? " of " + d.total : "") + ": " + d.name; },
    spectrum: (d) => drawSpectrum(d.db),
    frame: drawFrame,
    message: addMessage,
    metrics: drawMetrics,
  };
  const es = new EventSource("events");
  es.onopen = () => { $("status").textContent = "live"; $("status").className = "on"; };
  es.onerror = () => { $("status").textContent = "disconnected (retrying)"; $("status").className = "off"; };
  for (const [name, fn] of Object.entries(handlers)) {
    es.addEventListener(name, (e) => { fn(JSON.parse(e.data)); count(); });
  }
})();
