export * from './sparse-trainer.js';
export * from './create-mlp-model.js';
export * from './trainer-books.js';
