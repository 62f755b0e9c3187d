/**
 * The published numbers placed beside ours (test error in %). Sparse Momentum: the official repository's
 * result files behind the paper's MNIST compression figure (Dettmers & Zettlemoyer 2019, §4.1; mean ± SE over
 * its runs), with the dense reference lines of that figure. Baselines on LeNet-300-100 (SET, DeepR, DSR, and
 * Sparse Momentum itself): the paper's comparison with dynamic sparse methods, whose SET/DeepR/DSR values come
 * from Mostafa & Wang 2019, stored as test accuracy (`results/MNIST_sparse_summary.csv`); here converted to
 * error = 100 − accuracy, SE unchanged.
 */
export interface PublishedValue {
  /** Test error in %. */
  readonly error: number;
  /** Standard error in percentage points, when the source gives one. */
  readonly se?: number;
  /** Where the number comes from (short, shown in the tables). */
  readonly source: string;
}

/** `model/label/density` → the published values for that cell (most authoritative first). */
export type PublishedTable = Readonly<Record<string, readonly PublishedValue[]>>;

const COMPRESSION = 'paper, compression data';
const DYNAMIC = 'paper, dynamic-sparse data (100 − acc.)';

/** `100 − accuracy`, rounded to the 0.01 pp the figure data carries. */
const fromAccuracy = (accuracy: number, se?: number): PublishedValue => ({
  error: Math.round((100 - accuracy) * 100) / 100,
  ...(se === undefined ? {} : { se }),
  source: DYNAMIC,
});

/** Key of a cell in {@link PUBLISHED}. */
export const cellKey = (model: string, label: string, density: number): string => `${model}/${label}/${density}`;

/** Every published value the summary shows, keyed by {@link cellKey}. */
export const PUBLISHED: PublishedTable = {
  [cellKey('lenet300-100', 'sparse-momentum', 0.01)]: [{ error: 2.36, se: 0.044, source: COMPRESSION }],
  [cellKey('lenet300-100', 'sparse-momentum', 0.015)]: [{ error: 2.053, se: 0.032, source: COMPRESSION }],
  [cellKey('lenet300-100', 'sparse-momentum', 0.02)]: [{ error: 1.99, se: 0.019, source: COMPRESSION }, fromAccuracy(98.2, 0.018)],
  [cellKey('lenet300-100', 'sparse-momentum', 0.05)]: [{ error: 1.53, se: 0.02, source: COMPRESSION }, fromAccuracy(98.53, 0.033)],
  [cellKey('lenet300-100', 'sparse-momentum', 0.08)]: [{ error: 1.447, se: 0.014, source: COMPRESSION }],
  [cellKey('lenet300-100', 'dense', 1)]: [{ error: 1.34, se: 0.011, source: COMPRESSION }, fromAccuracy(98.69, 0.011)],
  [cellKey('lenet300-100', 'set', 0.02)]: [fromAccuracy(97.74, 0.071)],
  [cellKey('lenet300-100', 'set', 0.05)]: [fromAccuracy(98.14)],
  [cellKey('lenet300-100', 'deep-r', 0.02)]: [fromAccuracy(98.21, 0.135)],
  [cellKey('lenet300-100', 'deep-r', 0.05)]: [fromAccuracy(98.06, 0.045)],
  [cellKey('lenet300-100', 'dsr', 0.02)]: [fromAccuracy(98.14, 0.064)],
  [cellKey('lenet300-100', 'dsr', 0.05)]: [fromAccuracy(98.32, 0.038)],
  [cellKey('lenet5', 'sparse-momentum', 0.01)]: [{ error: 0.83, se: 0.04, source: COMPRESSION }],
  [cellKey('lenet5', 'sparse-momentum', 0.02)]: [{ error: 0.76, se: 0.022, source: COMPRESSION }],
  [cellKey('lenet5', 'sparse-momentum', 0.05)]: [{ error: 0.69, se: 0.021, source: COMPRESSION }],
  [cellKey('lenet5', 'sparse-momentum', 0.08)]: [{ error: 0.645, se: 0.019, source: COMPRESSION }],
  [cellKey('lenet5', 'dense', 1)]: [{ error: 0.58, se: 0.01, source: COMPRESSION }],
};

/** Display names of the grid's labels (presets and ablations); unknown labels show as they are. */
export const LABEL_NAMES: Readonly<Record<string, string>> = {
  'sparse-momentum': 'Sparse Momentum',
  set: 'SET',
  'deep-r': 'DeepR',
  dsr: 'DSR',
  static: 'static',
  rigl: 'RigL',
  dense: 'dense',
  'sm-random-growth': 'SM, random growth',
  'sm-no-redistribution': 'SM, no redistribution',
  'sm-sparse-execution': 'SM, sparse execution',
};

/** Display names of the models. */
export const MODEL_NAMES: Readonly<Record<string, string>> = {
  'lenet300-100': 'LeNet-300-100',
  lenet5: 'LeNet-5-Caffe',
};
