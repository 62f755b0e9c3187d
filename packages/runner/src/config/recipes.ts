import type { PartialConfig } from './schema.js';

/**
 * The paper's per-dataset training recipes (docs/algorithm.md#recipes), as configuration defaults.
 *
 * - MNIST (LeNet-300-100, LeNet-5): 100 epochs, batch 100, lr 0.1, LR ×0.1 every 25,000 mini-batches,
 *   L2 5e-4, density 5 % — the schema's own defaults.
 * - CIFAR-10 (AlexNet, VGG, WRN): 250 epochs, batch 128, lr 0.1, LR ×0.1 every 30,000 mini-batches, L2 5e-4;
 *   density 10 % for AlexNet-s/b, 3 % for VGG-like, 5 % for VGG-C/D and the WRNs. The epochs, batch 128 and
 *   decay frequency are recalled from the paper, not read in code (docs/algorithm.md#recipes marks them [RECALLED]).
 *   The data side is the official pipeline (docs/algorithm.md#recipes, `@sparse-learning/datasets`): the last 10 % of the
 *   training files are the validation split, and — because the official code takes that subset from the
 *   *augmented* training dataset object — validation batches get the training crop + flip too, drawn from the
 *   run's stream `validation-augment/<epoch>` (training batches: `augment/<epoch>/<batch>`); WRN dropout is
 *   keyed `dropout/<epoch>/<batch>`. All three are pure functions of (seed, position): reproducible and
 *   exactly resumable. `--valid-split 0` trains on all 50,000 images with no validation.
 *
 * Other datasets (`idx`, user data) get the MNIST recipe.
 */
export function datasetRecipe(dataset: string, model: string): PartialConfig {
  if (dataset === 'cifar10') {
    let density = 0.05;
    if (model.startsWith('alexnet')) density = 0.1;
    else if (model === 'vgg-like') density = 0.03;
    return { epochs: 250, batchSize: 128, lr: 0.1, decayFrequency: 30000, l2: 5e-4, density, validSplit: 0.1 };
  }
  return { epochs: 100, batchSize: 100, lr: 0.1, decayFrequency: 25000, l2: 5e-4, density: 0.05, validSplit: 0.1 };
}
