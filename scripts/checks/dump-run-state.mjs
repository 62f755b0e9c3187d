// A check behind results/README.md ('LeNet-5-Caffe at 1 % starts at chance'): dumps the latest checkpoint of one
// of our run directories (weights, masks, SGD momentum; TF.js layout) and the training-image indices of the next
// epoch's first <batches> mini-batches, for scripts/checks/official-replay-run-state.py.
//   npm run build && node scripts/checks/dump-run-state.mjs <run-dir> <out.json> <batches>
import { writeFileSync } from 'node:fs';
const r = await import('../../packages/runner/dist/index.js');
const ds = await import('../../packages/datasets/dist/index.js');
const [dir, out, nBatches] = process.argv.slice(2);
const point = await r.loadResumePoint(dir);
const { config } = r.resumeConfig(point.config, {}, (f) => f);
const session = await r.prepareExperiment({ config: { ...config, backend: 'native' }, logger: { debug() {}, info() {}, warn() {}, error() {} } });
r.restoreRunState(session, point.checkpoint, config);
const epoch = point.checkpoint.epoch + 1;
const order = session.dataset.train.epochOrder(session.dataOrderRng(epoch), true);
const batches = [];
for (let b = 0; b < Number(nBatches); b++) batches.push(Array.from(ds.batchIndices(order, b, config.batchSize)));
const state = { epoch, step: point.checkpoint.step, shapes: {}, weights: {}, masks: {}, momentum: {}, batches };
const masks = session.masking.maskArrays();
for (const v of session.model.variables) {
  state.shapes[v.name] = v.variable.shape;
  state.weights[v.name] = Array.from(v.variable.dataSync());
  if (masks[v.name]) state.masks[v.name] = Array.from(masks[v.name]);
  const m = session.optimizer.momentumOf(v.name);
  state.momentum[v.name] = Array.from(m.dataSync());
  m.dispose();
}
writeFileSync(out, JSON.stringify(state));
console.log(`epoch ${epoch}, step ${state.step}, ${batches.length} batches, first indices ${batches[0].slice(0, 5)}`);
