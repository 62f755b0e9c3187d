/**
 * Opens a real report in headless Chromium (Debian's `chromium`, when installed) and checks that chart.js drew
 * every chart onto its canvas. Skipped, with the reason, where no Chromium exists.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeReport } from './report.js';
import { writeRun } from './test-fixtures.js';

const chromium = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (path): path is string => !!path && existsSync(path),
);

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

declare module 'vitest' {
  interface TaskMeta {
    /** Why a test (or every test of a suite) is skipped; printed by `npm test` above its last line. */
    skipReason?: string;
  }
}

const browserSuite = chromium
  ? { skip: false, meta: {} }
  : {
      skip: true,
      meta: { skipReason: 'needs headless Chromium: install it (Debian: apt-get install chromium) or set CHROMIUM_PATH' },
    };

describe('report in a real browser', browserSuite, () => {
  it('draws learning curves, per-layer density and redistribution shares onto their canvases', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sl-report-browser-'));
    writeRun(dir, 0.0153);
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
