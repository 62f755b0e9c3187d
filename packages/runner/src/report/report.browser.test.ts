/**
 * Opens a real report in headless Chromium (Debian's `chromium`, when installed) and checks that chart.js drew
 * every chart onto its canvas. Skipped, with the reason, where no Chromium exists.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeReport } from './report.js';

const chromium = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (path): path is string => !!path && existsSync(path),
);

function writeRun(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const lines = [1, 2, 3].map((epoch) =>
    JSON.stringify({
      epoch,
      step: epoch * 10,
      trainLoss: 1 / epoch,
      validationLoss: 0.5,
      validationAccuracy: 0.9 + epoch / 100,
      testLoss: 0.5,
      testAccuracy: 0.89 + epoch / 100,
      learningRate: 0.1,
      pruneRate: 0.5 / epoch,
      totalActive: 100,
      density: 0.05,
      layers: [
        { name: 'fc1.weight', size: 1000, active: 40 + epoch, density: (40 + epoch) / 1000 },
        { name: 'fc2.weight', size: 100, active: 60 - epoch, density: (60 - epoch) / 100 },
      ],
      maskUpdates: 1,
      redistribution: [
        { name: 'fc1.weight', share: 0.3, removed: 5, regrown: 4 },
        { name: 'fc2.weight', share: 0.7, removed: 2, regrown: 3 },
      ],
      epochSeconds: 1.5,
    }),
  );
  writeFileSync(join(dir, 'metrics.jsonl'), `${lines.join('\n')}\n`);
  writeFileSync(
    join(dir, 'results.json'),
    JSON.stringify({ preset: 'sparse-momentum', model: 'lenet300-100', density: 0.05, seed: 17, testError: 0.0153, testAccuracy: 0.9847, backend: { name: 'wasm', reason: 'test' }, seconds: 3, finalDensity: 0.05, trainLoss: 0.3, validationAccuracy: 0.93 }),
  );
}

// Appended to a copy of the page: after chart.js has drawn, list every chart and count the painted pixels of
// its canvas into the DOM, which `--dump-dom` then prints.
const PROBE = `<script>
window.addEventListener('load', function () {
  setTimeout(function () {
    var out = (window.__charts || []).map(function (chart) {
      var c = chart.canvas, ctx = c.getContext('2d');
      var px = ctx.getImageData(0, 0, c.width, c.height).data, painted = 0;
      for (var i = 3; i < px.length; i += 4) if (px[i] !== 0) painted++;
      return { type: chart.config.type, datasets: chart.data.datasets.length, painted: painted };
    });
    var pre = document.createElement('pre');
    pre.id = 'probe';
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }, 500);
});
</script>`;

describe.skipIf(!chromium)('report in a real browser', () => {
  it('draws learning curves, per-layer density and redistribution shares onto their canvases', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sl-report-browser-'));
    writeRun(dir);
    const html = readFileSync(writeReport(dir), 'utf8');
    const probed = join(dir, 'probed.html');
    writeFileSync(probed, html.replace('</body>', `${PROBE}</body>`));
    const result = spawnSync(
      chromium!,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${join(dir, 'profile')}`,
        '--window-size=1200,2000',
        '--virtual-time-budget=5000',
        '--dump-dom',
        `file://${probed}`,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    const json = result.stdout.match(/<pre id="probe">([\s\S]*?)<\/pre>/)?.[1];
    expect(json, `chromium printed no probe (exit ${result.status}): ${result.stderr.slice(-500)}`).toBeDefined();
    const charts = JSON.parse(json!.replace(/&quot;/g, '"')) as { type: string; datasets: number; painted: number }[];
    expect(charts.map((c) => c.type)).toEqual(['line', 'line', 'bar']);
    expect(charts.map((c) => c.datasets)).toEqual([3, 2, 2]);
    for (const chart of charts) expect(chart.painted).toBeGreaterThan(1000);
  });
});
