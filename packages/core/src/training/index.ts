export * from './sparse-trainer.js';
export * from './create-mlp-model.js';
