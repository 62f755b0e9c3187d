// Times a masked training run step by step and digests what it leaves behind (issue 14).
//   node --import tsx scripts/bench-deep-r.mts <preset> <density> <steps> [backend=native] [epochs=2] [batchesPerEpoch]
// Trains <steps> steps the way the runner's loop does (MNIST, the preset's recipe, endEpoch after each epoch)
// and prints, on stdout, SHA-256 digests of the weights, masks, optimizer slots, trainer books, prune-strategy
// state and events (compare two commits: same digests = same results, bit for bit); on stderr, the median
// wall and process-CPU time per step, GC time, the CPU time of each epoch end, and with PHASES=1 the CPU
// time per step of the trainer's phases (gradients, transform, optimizer, mask update and its parts).
// Pin SPARSE_LEARNING_NATIVE_THREADS=1: the native GEMM's thread count changes the results' last bits.
import { createHash } from 'node:crypto';
const wt = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const [preset, density, steps, backend = 'native', epochsArg = '2', perEpochArg = '0'] = process.argv.slice(2);
await import(`${wt}/node_modules/reflect-metadata/Reflect.js`);
const { resolveConfig } = await import(`${wt}/packages/runner/src/config/resolve.ts`);
const { prepareExperiment } = await import(`${wt}/packages/runner/src/run/session.ts`);
const { batchIndices } = await import(`${wt}/packages/datasets/src/index.ts`);
const tf = await import(`${wt}/node_modules/@tensorflow/tfjs-core/dist/tf-core.node.js`);
const N = Number(steps);
const perEpoch = Number(perEpochArg) || undefined;
const { config } = resolveConfig({ name: 'cli', values: { preset, density: Number(density), epochs: Number(epochsArg), backend, ...(perEpoch ? { maxBatches: perEpoch } : {}) } });
const events: unknown[] = [];
const session = await prepareExperiment({ config, events: { emit: (e: unknown) => events.push(e) } });
const { trainer, dataset } = session;
const phase: Record<string, number> = {};
const { PerformanceObserver } = await import('node:perf_hooks');
let gcMs = 0; let gcCount = 0; const gcKinds: Record<string, number> = {};
const obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) { gcMs += e.duration; gcCount++; const k = (e as any).detail?.kind ?? (e as any).kind; gcKinds[k] = (gcKinds[k] ?? 0) + e.duration; } });
obs.observe({ entryTypes: ['gc'] });
function wrap(obj: any, key: string, label: string) {
  const orig = obj[key];
  obj[key] = function (...args: unknown[]) { const c0 = process.cpuUsage(); try { return orig.apply(this, args); } finally { const c = process.cpuUsage(c0); phase[label] = (phase[label] ?? 0) + (c.user + c.system) / 1000; } };
}
if (process.env.PHASES) {
  wrap(trainer, 'updateMasks', 'updateMasks');
  if (trainer.maskUpdater) wrap(trainer.maskUpdater, 'update', 'updater.update');
  for (const t of (trainer as any).transforms) wrap(t, 'transform', 'transform');
  wrap(trainer as any, 'gradients', 'gradients');
  wrap(session.optimizer as any, 'applyGradients', 'optimizer');
  if (session.masking) { wrap(session.masking, 'apply', 'masking.apply'); wrap(session.masking, 'setMasks', 'setMasks'); wrap(session.masking, 'readMasks', 'readMasks'); }
  const mu: any = trainer.maskUpdater; if (mu) { wrap(mu.prune, 'prune', 'prune'); wrap(mu.growth, 'grow', 'grow'); }
}
const h = (x: ArrayBufferView | string) => createHash('sha256').update(typeof x === 'string' ? x : new Uint8Array(x.buffer, x.byteOffset, x.byteLength)).digest('hex').slice(0, 16);
let done = 0;
const times: number[] = [];
const cpuTimes: number[] = [];
const updateTimes: number[] = [];
outer: for (let epoch = 1; ; epoch++) {
  const order = dataset.train.epochOrder(session.dataOrderRng(epoch), true);
  for (let b = 0; b < session.stepsPerEpoch; b++) {
    if (done >= N) break outer;
    const batch = dataset.train.batch(batchIndices(order, b, config.batchSize), session.augmentRng(epoch, b));
    session.model.setRandomKey(session.dropoutKey(epoch, b));
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    trainer.step(batch);
    const c1 = process.cpuUsage(c0);
    times.push(performance.now() - t0);
    cpuTimes.push((c1.user + c1.system) / 1000);
    batch.inputs.dispose(); batch.labels.dispose();
    done++;
    if (process.env.MEMLOG && done % 10 === 0) { const m = process.memoryUsage(); console.error(`step ${done}: heapUsed ${(m.heapUsed / 1e6).toFixed(1)} MB, arrayBuffers ${(m.arrayBuffers / 1e6).toFixed(1)} MB, external ${(m.external / 1e6).toFixed(1)} MB`); }
  }
  const t0 = process.cpuUsage();
  trainer.endEpoch({});
  const t1 = process.cpuUsage(t0);
  updateTimes.push((t1.user + t1.system) / 1000);
}
const out: Record<string, string> = {};
for (const v of session.model.variables) out[`var:${v.name}`] = h(v.variable.dataSync() as Float32Array);
if (session.masking) session.masking.readMasks().forEach((m: Uint8Array, i: number) => (out[`mask:${session.masking.names[i]}`] = h(m)));
const opt = session.optimizer.getState();
for (const [name, slots] of Object.entries(opt.slots)) for (const [slot, v] of Object.entries(slots as Record<string, Float32Array>)) out[`opt:${name}/${slot}`] = h(v);
out.trainer = h(JSON.stringify(trainer.getState()));
const prune: any = session.composition.maskUpdater?.prune;
if (prune?.getState) { const s = prune.getState(); out.pruneState = h(JSON.stringify(s, (k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Int8Array) : v))); }
out.events = h(JSON.stringify(events));
out.eventCount = String(events.length);
out.maskUpdates = String(events.filter((e: any) => e.type === 'mask-update').length);
out.numTensors = String(tf.memory().numTensors);
const sorted = [...times].sort((a, b) => a - b);
console.log(JSON.stringify(out, null, 1));
const cs = [...cpuTimes].sort((a, b) => a - b);
console.error(`backend ${session.backend.backend}; ${N} steps: median ${sorted[sorted.length >> 1].toFixed(2)} ms, cpu median ${cs[cs.length >> 1].toFixed(2)} ms, cpu mean ${(cpuTimes.reduce((a, b) => a + b, 0) / N).toFixed(2)} ms, mean ${(times.reduce((a, b) => a + b, 0) / N).toFixed(2)} ms; endEpoch ${updateTimes.map((t) => t.toFixed(1)).join(', ')} ms`);
await new Promise((r) => setTimeout(r, 50));
console.error(`gc ${(gcMs / N).toFixed(2)} ms/step (${gcCount} collections) ${JSON.stringify(Object.fromEntries(Object.entries(gcKinds).map(([k, v]) => [k, +(v / N).toFixed(2)])))}`);
if (process.env.PHASES) console.error(Object.entries(phase).map(([k, v]) => `${k} ${(v / N).toFixed(2)}`).join(', '), 'ms/step cpu');
session.dispose();
