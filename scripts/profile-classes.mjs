#!/usr/bin/env node
// Op classes of one WRN-16-8 step (issue 10, profile before/after): sums the per-kernel lines of
// `scripts/profile-step.mjs --kernels --shapes` (ours) or the per-op table of `scripts/profile-torch.py`
// (PyTorch, without --shapes) into the classes of BENCHMARKS.md, in ms per step.
//
//   node scripts/profile-classes.mjs ours <profile-step output> | torch <profile-torch output> [steps=3]
//   node scripts/profile-classes.mjs ours-lenet5 <profile-step --model=lenet5 output> | torch-lenet5 <profile-torch
//        --model=lenet5 --shapes output> [steps]   (LeNet-5-Caffe: one class per layer and pass; lenet5-step)
//
// Ours: kernels by name and input shapes. Batch norm is every kernel of the composite (FusedBatchNorm, Mean,
// Square, Rsqrt, Tile, Neg, Sub, Sum, scalar RealDiv, per-channel Multiply/Add) or the fused pair; element-wise
// products of two full activations are the ReLU-gradient and dropout products; same-shape Add the residual adds
// and gradient accumulation. The JavaScript draw of the dropout uniforms is no kernel (it is in "outside kernels").
// PyTorch: self CPU time per aten op.
import { readFileSync } from 'node:fs';

const [kind, file, stepsArg] = process.argv.slice(2);
const text = readFileSync(file, 'utf8');
const classes = new Map();
const addTo = (cls, ms) => classes.set(cls, (classes.get(cls) ?? 0) + ms);

const size = (s) => s.split(',').filter(Boolean).reduce((a, d) => a * Number(d), 1);
// LeNet-5-Caffe's layers by the channel count of a conv tensor (NHWC ours, NCHW PyTorch; lenet5-step).
const lenetLayer = (shape) => (/(^|,\s*)1,\s*20\]?$|^5,5,1,20$|^20,\s*1,/.test(shape) || /^100,(28,28,1|24,24,20|12,12,20)$/.test(shape.replace(/\s/g, '')) ? 'conv1' : 'conv2');
if (kind === 'ours-lenet5') {
  // Run the profile with SPARSE_LEARNING_NATIVE_LAZY=0 so each deferred gradient is timed in its own kernel
  // (lazily it is timed inside whichever kernel reads it first); conv1's input gradient, which training never
  // computes (nobody reads it), is then listed but left out of the sum. The third argument, a default (lazy)
  // run's output, supplies the step time.
  let total = 0;
  const step = /median step ([\d.]+) ms wall, ([\d.]+) ms CPU/.exec(stepsArg ? readFileSync(stepsArg, 'utf8') : text);
  for (const line of text.split('\n')) {
    const m = /^ {2}(\S+)\s*((?:\[[^\]]*\]\s*)*)\s+(\d+)\s+([\d.]+) ms$/.exec(line);
    if (!m) continue;
    const [, name, shapeText, , msText] = m;
    if (name.endsWith('__op') || name.includes('scope')) continue;
    const shapes = [...shapeText.matchAll(/\[([^\]]*)\]/g)].map((x) => x[1]);
    const first = shapes[0] ?? '';
    const big = /^100,(24,24,20|8,8,50)$/.test(first) ? (first.endsWith('20') ? 'conv1' : 'conv2') : null;
    let cls;
    if (name === 'FusedConv2D' || name === 'Conv2D' || name.startsWith('SparseLearningConv')) cls = `${shapes[1] === '5,5,1,20' ? 'conv1' : 'conv2'} forward (+ bias)`;
    else if (name === 'Conv2DBackpropInput') cls = `${shapes[1] === '5,5,1,20' ? 'conv1' : 'conv2'} input gradient`;
    else if (name === 'Conv2DBackpropFilter') cls = `${first.endsWith(',1') ? 'conv1' : 'conv2'} filter gradient`;
    else if (name === 'Sum' && big) cls = `${big} bias gradient`;
    else if (name === 'MaxPool' || name === 'MaxPoolGrad' || name.startsWith('SparseLearningMaxPool')) cls = `${/^100,(24,24,20|12,12,20)$/.test(first) ? 'conv1' : 'conv2'} max-pool ${name.includes('Grad') ? 'gradient' : 'forward'}`;
    else if ((name === 'Relu' || name === 'Step' || name === 'Multiply' || name === 'Cast' || name.startsWith('SparseLearningRelu')) && big) cls = `${big} ReLU ${name === 'Relu' ? 'forward' : 'gradient'}`;
    else if (['Relu', 'Step', 'Multiply', 'Cast'].includes(name) || name.includes('MatMul') || (name === 'Sum' && /^1?,?100,(500|10)$/.test(first))) cls = 'fc3 + fc4 (matmuls, bias, ReLU)';
    else if (name.startsWith('SparseLearningLogSoftmax')) cls = 'loss';
    else if (name.startsWith('SparseLearningSgd')) cls = 'optimizer + mask multiply';
    else cls = 'other (layout copies, eval log-softmax)';
    if (cls === 'conv1 input gradient') cls += ' (not run in training)';
    else total += Number(msText);
    addTo(cls, Number(msText));
  }
  if (step) addTo('outside kernels (engine, JS)', Number(step[1]) - total);
  console.log(`ours: kernel time ${total.toFixed(1)} ms, step ${step ? `${step[1]} ms wall, ${step[2]} ms CPU` : '?'}`);
} else if (kind === 'torch-lenet5') {
  const steps = Number(stepsArg ?? 3);
  const unit = (v) => (v.endsWith('us') ? Number(v.slice(0, -2)) / 1000 : v.endsWith('ms') ? Number(v.slice(0, -2)) : Number(v.slice(0, -1)) * 1000);
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^\s*(.+?)\s{2,}[\d.]+%\s+([\d.]+(?:us|ms|s))\s.*?(\[\[.*)?$/.exec(line);
    if (!m) continue;
    const [, name, self, shapeText = ''] = m;
    const ms = unit(self) / steps;
    const firstShape = /\[\[([^\]]*)\]/.exec(shapeText)?.[1] ?? '';
    const layer = /^100, (1, 28, 28|20, 24, 24|20, 12, 12)$/.test(firstShape) ? 'conv1' : 'conv2';
    let cls;
    if (name === 'aten::mkldnn_convolution' || name === 'aten::_convolution' || name === 'aten::thnn_conv2d') cls = `${/^100, 1, 28/.test(firstShape) ? 'conv1' : 'conv2'} forward (+ bias)`;
    else if (name === 'aten::convolution_backward') cls = `${/^100, 20, 24/.test(firstShape) ? 'conv1' : 'conv2'} input + filter + bias gradient`;
    else if (name === 'aten::max_pool2d_with_indices') cls = `${layer} max-pool forward`;
    else if (name === 'aten::max_pool2d_with_indices_backward') cls = `${/^100, 20, 12/.test(firstShape) ? 'conv1' : 'conv2'} max-pool gradient`;
    else if (name === 'aten::clamp_min' || name === 'aten::relu') cls = /^100, (20|50)/.test(firstShape) ? `${layer} ReLU forward` : 'fc3 + fc4 (matmuls, bias, ReLU)';
    else if (name === 'aten::threshold_backward') cls = /^100, (20|50)/.test(firstShape) ? `${layer} ReLU gradient` : 'fc3 + fc4 (matmuls, bias, ReLU)';
    else if (['aten::addmm', 'aten::mm', 'aten::sum'].includes(name)) cls = 'fc3 + fc4 (matmuls, bias, ReLU)';
    else if (name.includes('nll_loss') || name.includes('log_softmax')) cls = 'loss';
    else if (['aten::add_', 'aten::mul_', 'aten::fill_', 'aten::zero_', 'aten::add'].includes(name)) cls = 'optimizer + mask multiply';
    else cls = 'other (framework, copies, autograd)';
    addTo(cls, ms);
    sum += ms;
  }
  const step = /median step ([\d.]+) ms/.exec(text);
  console.log(`torch: median step ${step?.[1]} ms (no profiler), profiled self-CPU ${sum.toFixed(1)} ms`);
} else if (kind === 'ours') {
  const total = Number(/kernel time ([\d.]+) ms/.exec(text)?.[1] ?? NaN);
  const step = /median step ([\d.]+) ms wall, ([\d.]+) ms CPU/.exec(text);
  for (const line of text.split('\n')) {
    const m = /^ {2}(\S+)\s*((?:\[[^\]]*\]\s*)*)\s+(\d+)\s+([\d.]+) ms$/.exec(line);
    if (!m) continue;
    const [, name, shapeText, , msText] = m;
    const ms = Number(msText);
    if (name.endsWith('__op') || name.includes('scope')) continue;
    const shapes = [...shapeText.matchAll(/\[([^\]]*)\]/g)].map((x) => x[1]);
    const sizes = shapes.map(size);
    const full = Math.max(...sizes, 0);
    const same = sizes.length === 2 && sizes[0] === sizes[1];
    const small = sizes.length === 2 && Math.min(...sizes) < full;
    let cls;
    if (name === 'FusedConv2D' || name === 'Conv2D') cls = `conv forward ${shapes[1]}`;
    else if (name === 'Conv2DBackpropInput') cls = `conv input gradient ${shapes[1]}`;
    else if (name === 'Conv2DBackpropFilter') cls = `conv filter gradient x[${shapes[0]}] dy[${shapes[1]}]`;
    else if (name.startsWith('SparseLearningBatchNorm') || ['FusedBatchNorm', 'Mean', 'Square', 'Rsqrt', 'Tile', 'Neg', 'Sub', 'Sum'].includes(name)) cls = 'batch norm (fwd + bwd)';
    else if (name === 'RealDiv' && small) cls = 'batch norm (fwd + bwd)';
    else if ((name === 'Multiply' || name === 'Add') && small && Math.min(...sizes) > 1) cls = 'batch norm (fwd + bwd)';
    else if (name === 'Multiply' && small) cls = 'batch norm (fwd + bwd)';
    else if (name === 'Relu' || name === 'Step') cls = 'ReLU fwd + Step';
    else if (name === 'Floor' || (name === 'Add' && small)) cls = 'dropout (kernels)';
    else if (name === 'Multiply' && same) cls = 'element-wise products (ReLU grad, dropout)';
    else if (name === 'Add' && same) cls = 'residual adds, gradient sums';
    else if (['Cast', 'PadV2', 'Slice', 'Reshape', 'Identity'].includes(name)) cls = 'layout copies (Cast, Pad, Slice, Reshape, Identity)';
    else if (name.startsWith('SparseLearningSgd')) cls = 'optimizer + mask multiply';
    else cls = 'other (loss, fc, pooling)';
    addTo(cls, ms);
  }
  console.log(`ours: kernel time ${total.toFixed(1)} ms, step ${step ? `${step[1]} ms wall, ${step[2]} ms CPU` : '?'}`);
} else {
  const steps = Number(stepsArg ?? 3);
  const unit = (v) => (v.endsWith('us') ? Number(v.slice(0, -2)) / 1000 : v.endsWith('ms') ? Number(v.slice(0, -2)) : Number(v.slice(0, -1)) * 1000);
  for (const line of text.split('\n')) {
    const m = /^\s*(.+?)\s{2,}[\d.]+%\s+([\d.]+(?:us|ms|s))\s/.exec(line);
    if (!m) continue;
    const name = m[1].trim();
    const ms = unit(m[2]) / steps;
    let cls;
    if (name === 'aten::mkldnn_convolution') cls = 'conv forward (all)';
    else if (name === 'aten::convolution_backward') cls = 'conv input + filter gradient (all)';
    else if (name.startsWith('aten::native_batch_norm')) cls = 'batch norm (fwd + bwd)';
    else if (name === 'aten::clamp_min' || name === 'aten::threshold_backward') cls = 'ReLU fwd + bwd';
    else if (name === 'aten::bernoulli_' || name === 'aten::div_' || name === 'aten::mul') cls = 'dropout (mask draw, products)';
    else if (name === 'aten::add') cls = 'residual adds, gradient sums';
    else if (name === 'aten::add_' || name === 'aten::mul_' || name === 'aten::fill_' || name === 'aten::zero_') cls = 'optimizer + mask multiply (+ zero_grad)';
    else cls = 'other (framework, loss, fc, pooling, copies)';
    addTo(cls, ms);
  }
  const step = /median step ([\d.]+) ms/.exec(text);
  console.log(`torch: median step ${step?.[1]} ms (no profiler)`);
}
for (const [cls, ms] of [...classes].sort((a, b) => b[1] - a[1])) console.log(`  ${cls.padEnd(60)} ${ms.toFixed(1)} ms`);
