/**
 * The code users copy from a README is the code the consumer-install test runs: every `<!-- snippet: <file> -->`
 * block of a package README equals that file byte for byte.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { installArguments, markedSnippets, repoRoot } from './release-helpers.js';

const coreReadme = join(repoRoot, 'packages/core/README.md');

describe('README snippets', () => {
  it('the core README shows examples/quick-start/quick-start.mjs and .cjs verbatim', () => {
    const snippets = markedSnippets(coreReadme);
    const files = [...snippets.keys()].filter((key) => key !== 'install');
    expect(files.sort()).toEqual(['../../examples/quick-start/quick-start.cjs', '../../examples/quick-start/quick-start.mjs']);
    for (const file of files) {
      expect(snippets.get(file), file).toBe(readFileSync(join(dirname(coreReadme), file), 'utf8'));
    }
  });

  it("the core README's install command names every package its quick start imports or requires", () => {
    const installed = installArguments(coreReadme).map((arg) => arg.replace(/(.)@[^@/]*$/, '$1'));
    for (const file of ['quick-start.mjs', 'quick-start.cjs']) {
      const source = readFileSync(join(repoRoot, 'examples/quick-start', file), 'utf8');
      const imported = [...source.matchAll(/(?:from |import |require\()'([^'.][^']*)'/g)].map((m) => m[1]);
      expect(imported.length).toBeGreaterThan(5);
      for (const name of imported) expect(installed, `${file} imports ${name}`).toContain(name);
    }
  });
});
