import { resolve } from 'node:path';
import { cruise, type ICruiseResult, type IForbiddenRuleType } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';

/**
 * The package map, enforced on every import of the sources (tests included where they matter):
 * core depends on nothing of ours; the plugin packages and the other libraries on core only (the zoo's tests
 * also on backend-native); `testing` on core only; `golden` (private) on the libraries; the runner on everything; nothing depends on the runner;
 * and no import circle anywhere, between packages or between the files of one package.
 */
const root = resolve(__dirname, '../..');
const SOURCES = ['packages', 'examples'];

/** Packages that may import only `@sparse-learning/core` (and themselves). */
const CORE_ONLY = ['prune', 'growth', 'redistribution', 'testing', 'models', 'datasets', 'checkpoint', 'backend-native'];

const TEST_FILE = '\\.test\\.ts$|/test-support/|/test-helpers\\.ts$|/test-fixtures\\.ts$|/native-test-skip\\.ts$';

const rules: IForbiddenRuleType[] = [
  {
    name: 'core-depends-on-nothing-of-ours',
    severity: 'error',
    from: { path: '^packages/core/src/' },
    to: { path: '^packages/(?!core/)' },
  },
  ...CORE_ONLY.map(
    (pkg): IForbiddenRuleType => ({
      name: `${pkg}-depends-on-core-only`,
      severity: 'error',
      from: { path: `^packages/${pkg}/src/`, pathNot: TEST_FILE },
      to: { path: `^packages/(?!core/|${pkg}/)` },
    }),
  ),
  {
    // Tests of the plugin packages may use the conformance kit.
    name: 'tests-use-only-the-test-kit',
    severity: 'error',
    from: { path: `^packages/(${CORE_ONLY.join('|')})/src/`, pathNot: '^packages/(core|testing|models)/' },
    to: { path: '^packages/(?!core/|testing/|$1/)' },
  },
  {
    // The zoo's tests train its CNNs on backend-native's kernels (a devDependency; tfjs-cpu's filter gradient
    // is a naive loop). One direction only: backend-native's tests build their networks themselves.
    name: 'models-tests-use-only-the-test-kit-and-backend-native',
    severity: 'error',
    from: { path: '^packages/models/src/' },
    to: { path: '^packages/(?!core/|testing/|backend-native/|models/)' },
  },
  {
    name: 'nothing-depends-on-the-runner',
    severity: 'error',
    from: { path: '^packages/(?!runner/)' },
    to: { path: '^packages/runner/' },
  },
  { name: 'no-circles', severity: 'error', from: {}, to: { circular: true } },
];

let result: ICruiseResult | undefined;
async function cruiseOnce(): Promise<ICruiseResult> {
  if (result) return result;
  const cwd = process.cwd();
  process.chdir(root);
  try {
    const reporting = await cruise(SOURCES, {
      validate: true,
      ruleSet: { forbidden: rules },
      tsConfig: { fileName: 'tsconfig.json' },
      tsPreCompilationDeps: true,
      doNotFollow: { path: 'node_modules' },
      exclude: { path: '(^|/)(node_modules|dist|native|build)/' },
      enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
    });
    result = reporting.output as ICruiseResult;
  } finally {
    process.chdir(cwd);
  }
  return result;
}

describe('import boundaries (the package map, no circles)', () => {
  it('reads the whole source tree', async () => {
    const { modules } = await cruiseOnce();
    const files = modules.map((m) => m.source);
    expect(files).toContain('packages/core/src/index.ts');
    expect(files).toContain('packages/runner/src/run/experiment.ts');
    // Imports between packages are resolved to their sources (the tsconfig paths), not left unresolved.
    const runnerIndex = modules.find((m) => m.source === 'packages/runner/src/composition/compose.ts');
    expect(runnerIndex?.dependencies.map((d) => d.resolved)).toContain('packages/core/src/index.ts');
  });

  it('no import crosses the package map', async () => {
    const { summary } = await cruiseOnce();
    const crossings = summary.violations
      .filter((v) => v.rule.name !== 'no-circles')
      .map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);
    expect(crossings).toEqual([]);
  });

  it('no import circle anywhere', async () => {
    // Every edge that lies on a circle (dependency-cruiser marks them all, whatever it reports as violations).
    const { modules } = await cruiseOnce();
    const circles = modules.flatMap((m) => m.dependencies.filter((d) => d.circular).map((d) => `${m.source} -> ${d.resolved}`)).sort();
    expect(circles).toEqual([]);
  });
});
