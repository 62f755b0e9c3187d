import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SparseLearningError } from '@sparse-learning/core';

/**
 * The source of chart.js's UMD build (which defines the global `Chart`), read from `node_modules` so that the
 * report inlines it and works offline as a single file. The package's `exports` map does not expose the UMD
 * file, so it is found next to the resolved main entry.
 */
export function chartJsSource(): string {
  let main: string;
  try {
    main = createRequire(import.meta.url).resolve('chart.js');
  } catch (error) {
    throw new SparseLearningError('E_DATA_MISSING', 'chart.js is not installed: run npm install', {}, { cause: error });
  }
  for (const name of ['chart.umd.min.js', 'chart.umd.js']) {
    const path = join(dirname(main), name);
    if (existsSync(path)) return readFileSync(path, 'utf8');
  }
  throw new SparseLearningError('E_DATA_MISSING', `chart.js UMD build not found next to ${main}`, { main });
}
