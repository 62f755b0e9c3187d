/**
 * Test helper (not exported by the package): tests that need the native addon stay in the suite when it is
 * not built, as *skipped* tests with the reason, instead of vanishing (a loop over zero builds registers
 * nothing) or being replaced by a passing placeholder. `scripts/run-tests.mjs` lists every skipped test with
 * its `meta.skipReason`.
 */
import type { NativeAddon } from './addon.js';

declare module 'vitest' {
  interface TaskMeta {
    /** Why a test (or every test of a suite) is skipped; printed by `npm test` above its last line. */
    skipReason?: string;
  }
}

/** vitest options of a suite or test that needs the addon: skipped, with the reason, when it is absent. */
export interface NativeSkipOptions {
  readonly skip: boolean;
  readonly meta: { skipReason?: string };
}

/** Options that skip a test or suite with `needs the native addon: <reason>`, or run it when `reason` is null. */
export function nativeSkipOptions(reason: string | null): NativeSkipOptions {
  return reason === null ? { skip: false, meta: {} } : { skip: true, meta: { skipReason: `needs the native addon: ${reason}` } };
}

/**
 * A stand-in for an addon that is not built. Its tests are registered (and skipped), never run: every call
 * throws, `info()` included, except the few reads a test file makes while it *registers* its tests.
 */
function unbuiltAddon(reason: string): NativeAddon {
  const fail = () => {
    throw new Error(`native addon not built: ${reason}`);
  };
  return new Proxy({} as NativeAddon, {
    get(_target, key) {
      if (key === 'info') return () => ({ gemm: 'not built', threads: 0, version: 0 });
      if (key === 'then') return undefined;
      return fail;
    },
  });
}

/**
 * When `builds` is empty, adds one stand-in build (so each per-build suite is still registered) and returns
 * options that skip those suites with `reason` and how to build the addon; otherwise options that run them.
 *
 * @param builds the `[name, addon]` list a test file iterates over (mutated: the stand-in is appended)
 * @param reason why no addon loaded (`nativeAddonStatus().reason`)
 */
export function skipWithoutNativeAddon(builds: [string, NativeAddon][], reason: string): NativeSkipOptions {
  if (builds.length > 0) return nativeSkipOptions(null);
  builds.push(['not built', unbuiltAddon(reason)]);
  return nativeSkipOptions(reason);
}
