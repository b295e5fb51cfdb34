// NotebookLens views: mounts Plotly charts once plotly.js is there, and opens attention heads on demand.
// Carried by every notebook output (it is small) and once by a report; the first copy to run wins.
(function () {
  if (window.NotebookLensViews) return;
  var ready = 'notebooklens-plotly-ready';

  // Scripts inside a <template> never run; copy each into a fresh element so it does, in order.
  function mount(host) {
    var template = host.querySelector('template');
    if (!template || host.getAttribute('data-mounted')) return;
    host.setAttribute('data-mounted', '1');
    var missing = host.querySelector('.nl-chart-missing');
    if (missing) missing.remove();
    var nodes = Array.prototype.slice.call(template.content.cloneNode(true).childNodes);
    nodes.forEach(function (node) { host.appendChild(node); runScripts(node); });
    var plot = host.querySelector('.js-plotly-plot');
    if (plot) window.Plotly.relayout(plot, { 'font.color': getComputedStyle(host).color });
  }

  function runScripts(node) {
    var scripts = node.tagName === 'SCRIPT' ? [node] : Array.prototype.slice.call(node.querySelectorAll ? node.querySelectorAll('script') : []);
    scripts.forEach(function (old) {
      var script = document.createElement('script');
      script.text = old.text;
      old.parentNode.replaceChild(script, old);
    });
  }

  // A chart drawn now, or when plotly.js arrives (another output may carry it and render later);
  // after a few seconds without it, say why the chart is blank.
  function chart(id) {
    var host = document.getElementById(id);
    if (!host) return;
    if (window.Plotly) { mount(host); return; }
    window.addEventListener(ready, function () { mount(host); });
    setTimeout(function () {
      if (window.Plotly || host.getAttribute('data-mounted')) return;
      var note = document.createElement('div');
      note.className = 'nl-chart-missing';
      note.textContent = 'This chart needs plotly.js, which the first chart output of a kernel session carries. ' +
        'It is not loaded in this page (that output was cleared, or the notebook was reopened): run the cell again.';
      host.appendChild(note);
    }, 3000);
  }

  function bytes(base64) {
    var raw = atob(base64), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function inflate(data) {
    var stream = new Blob([data]).stream().pipeThrough(new DecompressionStream('deflate'));
    return new Response(stream).arrayBuffer().then(function (b) { return new Uint8Array(b); });
  }

  // One head at full resolution: a Plotly heatmap with the tokens on both axes. Each label carries its position
  // ("3 the"), so repeated tokens stay apart as categories and the hover names both tokens.
  function headData(grid) {
    if (!grid.nlData) grid.nlData = JSON.parse(grid.querySelector('script.nl-head-data').textContent);
    return grid.nlData;
  }

  function openHead(img) {
    var grid = img.closest('.nl-attention-grid');
    var data = headData(grid);
    var zoom = grid.querySelector('.nl-head-zoom');
    var layer = +img.getAttribute('data-layer'), head = +img.getAttribute('data-head');
    grid.querySelectorAll('img.nl-selected').forEach(function (e) { e.classList.remove('nl-selected'); });
    img.classList.add('nl-selected');
    return inflate(bytes(data.maps[layer][head])).then(function (q) {
      var n = data.labels.length, z = new Array(n);
      for (var r = 0; r < n; r++) {
        var row = new Array(n);
        for (var c = 0; c < n; c++) row[c] = c > r ? null : q[r * n + c] / 255;
        z[r] = row;
      }
      var labels = data.labels.map(function (text, i) { return i + ' ' + text; });
      var size = Math.max(480, Math.min(900, 200 + n * 14));
      zoom.innerHTML = '';
      var title = document.createElement('div');
      title.className = 'nl-sub';
      title.textContent = 'Layer ' + data.layerNames[layer] + ', head ' + head + ' (values rounded to 1/255)';
      var plot = document.createElement('div');
      zoom.appendChild(title);
      zoom.appendChild(plot);
      var axis = { type: 'category', tickfont: { size: 10 }, automargin: true };
      return window.Plotly.newPlot(plot, [{
        type: 'heatmap', z: z, x: labels, y: labels, zmin: 0, zmax: 1, colorscale: 'Viridis',
        hovertemplate: 'query %{y}<br>key %{x}<br>p = %{z:.3f}<extra></extra>'
      }], {
        width: size, height: size, margin: { t: 10, r: 10 },
        paper_bgcolor: 'rgba(0,0,0,0)', plot_bgcolor: 'rgba(0,0,0,0)', font: { color: getComputedStyle(grid).color },
        xaxis: Object.assign({ title: { text: 'key' }, side: 'top' }, axis),
        yaxis: Object.assign({ title: { text: 'query' }, autorange: 'reversed' }, axis)
      }, { responsive: true });
    });
  }

  document.addEventListener('click', function (e) {
    var img = e.target.closest && e.target.closest('.nl-attention-grid img[data-head]');
    if (img) openHead(img);
  });

  window.NotebookLensViews = { chart: chart, mount: mount, openHead: openHead, readyEvent: ready };
})();
