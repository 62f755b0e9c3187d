/**
 * The browser-side script of the report: reads the embedded JSON and draws every chart with chart.js.
 * Kept as plain ES2017 text (no build step) because it is inlined into a standalone HTML page.
 */
export const CLIENT_SCRIPT = String.raw`
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var palette = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
  function color(i, alpha) {
    var c = palette[i % palette.length];
    if (alpha === undefined) return c;
    var n = parseInt(c.slice(1), 16);
    return 'rgba(' + (n >> 16) + ',' + ((n >> 8) & 255) + ',' + (n & 255) + ',' + alpha + ')';
  }
  window.__charts = [];
  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    config.options = config.options || {};
    config.options.animation = false;
    config.options.responsive = true;
    window.__charts.push(new Chart(canvas.getContext('2d'), config));
  }
  function pct(v) { return v === null || v === undefined ? null : 100 * v; }

  data.groups.forEach(function (group, g) {
    var epochs = group.curves.epoch;
    draw('learning-' + g, {
      type: 'line',
      data: {
        labels: epochs,
        datasets: [
          { label: 'train loss', data: group.curves.trainLoss, borderColor: color(0), yAxisID: 'loss' },
          { label: 'validation accuracy (%)', data: group.curves.validationAccuracy.map(pct), borderColor: color(2), yAxisID: 'acc' },
          { label: 'test accuracy (%)', data: group.curves.testAccuracy.map(pct), borderColor: color(1), yAxisID: 'acc' }
        ]
      },
      options: {
        plugins: { title: { display: true, text: 'Learning curves — ' + group.label } },
        scales: {
          x: { title: { display: true, text: 'epoch' } },
          loss: { type: 'linear', position: 'left', title: { display: true, text: 'loss' } },
          acc: { type: 'linear', position: 'right', title: { display: true, text: 'accuracy (%)' }, grid: { drawOnChartArea: false } }
        }
      }
    });
    draw('density-' + g, {
      type: 'line',
      data: {
        labels: epochs,
        datasets: group.layers.map(function (layer, i) {
          return { label: layer.name, data: layer.density.map(pct), borderColor: color(i) };
        })
      },
      options: {
        plugins: { title: { display: true, text: 'Per-layer density — ' + group.label } },
        scales: { x: { title: { display: true, text: 'epoch' } }, y: { title: { display: true, text: 'density (%)' } } }
      }
    });
    draw('shares-' + g, {
      type: 'bar',
      data: {
        labels: group.shares.epoch,
        datasets: group.shares.layers.map(function (layer, i) {
          return { label: layer.name, data: layer.share.map(pct), backgroundColor: color(i, 0.8) };
        })
      },
      options: {
        plugins: { title: { display: true, text: 'Redistribution shares per mask update — ' + group.label } },
        scales: { x: { stacked: true, title: { display: true, text: 'epoch' } }, y: { stacked: true, max: 100, title: { display: true, text: 'share (%)' } } }
      }
    });
  });

  if (data.comparison) {
    var cmp = data.comparison;
    var datasets = [];
    cmp.densities.forEach(function (density, d) {
      datasets.push({
        type: 'bar',
        label: 'mean test error (%), density ' + density,
        data: cmp.presets.map(function (p) { var r = cmp.cells[p + '|' + density]; return r ? 100 * r.mean : null; }),
        backgroundColor: color(d, 0.7)
      });
      datasets.push({
        type: 'bar',
        label: '95 % interval, density ' + density,
        data: cmp.presets.map(function (p) { var r = cmp.cells[p + '|' + density]; return r && r.ci95 ? [100 * r.ci95[0], 100 * r.ci95[1]] : null; }),
        backgroundColor: color(d, 0.25),
        borderColor: color(d),
        borderWidth: 1,
        barPercentage: 0.3
      });
    });
    draw('comparison', {
      type: 'bar',
      data: { labels: cmp.presets, datasets: datasets },
      options: {
        plugins: { title: { display: true, text: 'Test error by preset and density (mean, 95 % interval = ±1.96·SE)' } },
        scales: { y: { title: { display: true, text: 'test error (%)' } } }
      }
    });
    draw('comparison-curves', {
      type: 'line',
      data: {
        labels: data.groups.length ? data.groups[0].curves.epoch : [],
        datasets: data.groups.map(function (group, g) {
          return { label: group.label, data: group.curves.testAccuracy.map(pct), borderColor: color(g) };
        })
      },
      options: {
        plugins: { title: { display: true, text: 'Test accuracy by epoch (mean over seeds)' } },
        scales: { x: { title: { display: true, text: 'epoch' } }, y: { title: { display: true, text: 'test accuracy (%)' } } }
      }
    });
  }
})();
`;
