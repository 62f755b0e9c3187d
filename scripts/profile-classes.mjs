#!/usr/bin/env node
// Op classes of one WRN-16-8 step (issue 10, profile before/after): sums the per-kernel lines of
// `scripts/profile-step.mjs --kernels --shapes` (ours) or the per-op table of `scripts/profile-torch.py`
// (PyTorch, without --shapes) into the classes of BENCHMARKS.md, in ms per step.
//
//   node scripts/profile-classes.mjs ours <profile-step output> | torch <profile-torch output> [steps=3]
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
if (kind === 'ours') {
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
