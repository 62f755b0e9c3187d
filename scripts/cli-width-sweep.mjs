#!/usr/bin/env node
// Issue 9, item 7, through the CLI: `sparse-learning train --model er-mlp-<W> --preset set --epsilon 20
// --execution sparse` for W from 1 000 to a width whose dense form does not fit in this machine's memory. The
// run's session is compact (no dense model, masks or optimizer slots after the initial draw, which is drawn
// in dense form and compacted up to 1 GiB of dense weights, in compact form above). Each width is its own `sparse-learning` process under /usr/bin/time -v (peak RSS = that process).
//
//   node scripts/cli-width-sweep.mjs [--widths=1000,4000,...] [--epsilon=20] [--steps=100] [--eval-batches=10] [--threads=1] [--masked=1000,4000]
//
// Two epochs of `--steps` steps (batch 100) each, one compact SET update between them; epoch time is the
// run's own `epochSeconds` (training steps + evaluation of validation and test, `--eval-batches` batches of 100
// each, + the update). `--masked` widths also run in masked execution (the dense TF.js model), for the RSS of
// the dense form.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'packages/runner/bin/sparse-learning.js');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const hit = argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : dflt;
};
const widths = opt('widths', '1000,4000,16000,64000,100000').split(',').filter(Boolean).map(Number);
const masked = opt('masked', '').split(',').filter(Boolean).map(Number);
const epsilon = Number(opt('epsilon', 20));
const steps = Number(opt('steps', 100));
const evalBatches = Number(opt('eval-batches', 10));
const threads = opt('threads', '1');
const memGiB = os.totalmem() / 2 ** 30;
const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim();

function run(width, execution) {
  const out = mkdtempSync(join(os.tmpdir(), `sl-width-${width}-`));
  const args = [
    '-v', process.execPath, cli, 'train', '--model', `er-mlp-${width}`, '--preset', 'set', '--epsilon', String(epsilon),
    '--execution', execution, ...(execution === 'sparse' ? ['--sparse-state', 'compact'] : []),
    '--epochs', '2', '--max-batches', String(steps), '--max-eval-batches', String(evalBatches), '--backend', 'native', '--seed', '17', '--out', join(out, 'run'), '--force',
  ];
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', args, { cwd: root, encoding: 'utf8', env: { ...process.env, SPARSE_LEARNING_NATIVE_THREADS: threads }, maxBuffer: 1 << 26 });
  const wall = (performance.now() - t0) / 1000;
  const rssKiB = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? '')?.[1] ?? NaN);
  try {
    if (r.status !== 0) return { width, execution, failed: `exit ${r.status}: ${(r.stderr ?? '').split('\n').filter((l) => l.includes('error')).join(' | ').slice(0, 300)}`, rssKiB };
    const dir = join(out, 'run');
    const metrics = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const ckpt = readdirSync(dir).filter((f) => f.endsWith('.slckpt')).map((f) => statSync(join(dir, f)).size).at(-1);
    const exp = spawnSync(process.execPath, [cli, 'export', dir], { cwd: root, encoding: 'utf8' });
    const exported = exp.status === 0 ? Number(/sparse ([\d,]+) bytes/.exec(exp.stdout)?.[1].replaceAll(',', '')) : (exp.stderr.match(/\[E_[A-Z_]+\]/)?.[0] ?? `exit ${exp.status}`);
    return {
      width,
      execution,
      active: metrics[0].totalActive,
      dense: metrics[0].layers.reduce((a, l) => a + l.size, 0),
      epochS: metrics.map((m) => m.epochSeconds),
      testAcc: metrics.at(-1).testAccuracy,
      loss: metrics.map((m) => m.trainLoss),
      rssKiB,
      wall,
      ckpt,
      exported,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const fmtBytes = (b) => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(1)} GiB` : b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(0)} MiB` : `${(b / 2 ** 10).toFixed(0)} KiB`);
console.log(`CLI width sweep — er-mlp-<W> (784-W-W-10 ReLU), --preset set --epsilon ${epsilon}, batch 100, MNIST, ${threads} native thread(s); ${os.cpus()[0]?.model}, ${memGiB.toFixed(0)} GiB RAM; commit ${commit}; load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; ${new Date().toISOString()}`);
console.log(`2 epochs × ${steps} steps, one compact SET update after epoch 1, evaluation ${evalBatches} batches of validation and test per epoch`);
console.log('| W | execution | active weights | dense weights (fp32) | epoch 1 (incl. SET update) | epoch 2 | peak RSS | checkpoint | export | train loss e1 → e2 | test acc. |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
const jobs = [...widths.map((w) => [w, 'sparse']), ...masked.map((w) => [w, 'masked'])];
for (const [width, execution] of jobs) {
  const x = run(width, execution);
  if (x.failed) {
    console.log(`| ${width.toLocaleString('en')} | ${execution} | failed (${x.failed}) | | | | ${Number.isFinite(x.rssKiB) ? fmtBytes(x.rssKiB * 1024) : ''} | | | | |`);
    continue;
  }
  const denseBytes = 4 * x.dense;
  console.log(
    `| ${width.toLocaleString('en')} | ${execution} | ${(x.active / 1e6).toFixed(2)} M | ${(x.dense / 1e6).toFixed(1)} M (${fmtBytes(denseBytes)}${denseBytes / 2 ** 30 > memGiB ? ', does not fit' : ''}) | ${x.epochS[0].toFixed(1)} s | ${x.epochS[1].toFixed(1)} s | ${fmtBytes(x.rssKiB * 1024)} | ${fmtBytes(x.ckpt)} | ${typeof x.exported === 'number' ? fmtBytes(x.exported) : x.exported} | ${x.loss[0].toFixed(3)} → ${x.loss[1].toFixed(3)} | ${(100 * x.testAcc).toFixed(1)} % |`,
  );
}
