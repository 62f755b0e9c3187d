/**
 * Runtime CPU dispatch and the per-shape GEMM choice of the native addon (issue 10). The kernels of every ISA
 * variant are compared with the reference in native-backend.test.ts; this file checks the selection itself.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { describeAddon, nativeAddonStatus } from './addon.js';
import { nativeSkipOptions } from './native-test-skip.js';
import { randomData } from './test-helpers.js';

const status = nativeAddonStatus();
const addon = status.addon;
const info = addon?.info();
const dispatching = Boolean(addon?.setIsa && info?.isas);

/** info() of the addon loaded in a fresh process with `env` added. */
function infoInChild(env: Record<string, string>): { isa: string; isaReason: string; gemm: string; gemmPolicy: string } {
  const r = spawnSync(process.execPath, ['-e', `console.log(JSON.stringify(require(${JSON.stringify(status.path)}).info()))`], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

// Without an addon that dispatches (not built, or version < 4) these tests are reported as skipped with the reason.
const dispatchSuite = nativeSkipOptions(dispatching ? null : `no run-time ISA dispatch (addon version ${info?.version ?? 'none'}): ${status.reason}`);

describe('native addon: ISA chosen at load from cpuid', dispatchSuite, () => {
  it('reports the active ISA among the supported ones, lowest first, and says so in the backend reason', () => {
    const isas = info?.isas ?? [];
    expect(isas[0]).toBe('generic');
    expect(isas).toEqual(['generic', 'avx2', 'avx512'].slice(0, isas.length));
    expect(isas).toContain(info?.isa);
    expect(describeAddon(info!)).toContain(`isa: ${info?.isaReason}`);
    expect(status.reason).toContain('isa: ');
  });

  it('SPARSE_LEARNING_NATIVE_ISA forces a lower ISA; an unsupported or unknown one is ignored with the reason', () => {
    const isas = info?.isas ?? [];
    const forced = infoInChild({ SPARSE_LEARNING_NATIVE_ISA: 'generic' });
    expect(forced.isa).toBe('generic');
    expect(forced.isaReason).toMatch(/^generic \(SPARSE_LEARNING_NATIVE_ISA=generic; cpu has /);
    expect(forced.gemm).toMatch(/own-generic/);
    const bogus = infoInChild({ SPARSE_LEARNING_NATIVE_ISA: 'sse9' });
    expect(bogus.isa).toBe(isas[isas.length - 1]);
    expect(bogus.isaReason).toContain('SPARSE_LEARNING_NATIVE_ISA=sse9 ignored (valid: generic, avx2, avx512)');
  });

  it('setIsa switches the variant and rejects an unknown name', () => {
    const isas = info?.isas ?? [];
    for (const isa of isas) {
      expect(addon?.setIsa?.(isa)).toBe(true);
      expect(addon?.info().isa).toBe(isa);
    }
    expect(() => addon?.setIsa?.('sse9' as never)).toThrow(/generic, avx2, avx512/);
    expect(addon?.info().isa).toBe(isas[isas.length - 1]);
  });

  it('fmaPeak measures every supported ISA (positive) and rejects 0 threads', () => {
    for (const isa of info?.isas ?? []) expect(addon?.fmaPeak?.(isa, 1, 0.01)).toBeGreaterThan(0);
    expect(() => addon?.fmaPeak?.('generic', 0, 0.01)).toThrow(/threads >= 1/);
  });

  it('SPARSE_LEARNING_NATIVE_BLAS=own keeps OpenBLAS out; the default policy times both per shape', () => {
    const own = infoInChild({ SPARSE_LEARNING_NATIVE_BLAS: 'own' });
    expect(own.gemm).toMatch(/^own-/);
    expect(own.gemm).not.toContain('openblas');
    expect(info?.gemmPolicy).toBe('measure');
    if (!info?.openblas?.available) {
      expect(info?.gemm).toMatch(/^own-/);
      return;
    }
    addon?.setGemmPolicy?.('measure'); // also forgets earlier decisions
    const [m, n, k] = [23, 41, 19];
    const c = new Float32Array(m * n);
    addon?.gemm(false, true, m, n, k, 1, randomData(m * k, 1), randomData(n * k, 2), 0, c);
    const lines = addon?.gemmChoices?.() ?? [];
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^23x19x41 tB \w+ \d+t: (own|openblas) (\(own [\d.]+ ms, openblas [\d.]+ ms\)|\(recorded earlier\))$/);
    expect(() => addon?.setGemmPolicy?.('fastest' as never)).toThrow(/measure, own or openblas/);
  });

  it('records the per-shape decisions in a file that the next process reads instead of timing again', () => {
    if (!info?.openblas?.available || !addon?.setGemmRecord) return;
    const previous = addon.info().gemmRecord ?? '';
    const dir = mkdtempSync(join(tmpdir(), 'sl-gemm-record-'));
    const file = join(dir, 'gemm-choices.txt');
    try {
      expect(addon.setGemmRecord(file)).toBe(true);
      expect(addon.info().gemmRecord).toBe(file);
      const [m, n, k] = [29, 31, 37];
      const run = () => addon.gemm(true, false, m, n, k, 1, randomData(m * k, 3), randomData(k * n, 4), 0, new Float32Array(m * n));
      run();
      const written = readFileSync(file, 'utf8').trim().split('\n');
      expect(written).toHaveLength(1);
      const [key, impl] = written[0].split('\t');
      expect(key).toMatch(/^v2\|.+\|1\|0\|29\|31\|37\|\w+\|\d+$/);
      expect(['own', 'openblas']).toContain(impl);
      // A "new process": the decisions are forgotten and read back from the file, not timed again.
      expect(addon.setGemmRecord(file)).toBe(true);
      run();
      expect(addon.gemmChoices?.()).toEqual([expect.stringMatching(new RegExp(`^29x37x31 tA \\w+ \\d+t: ${impl} \\(recorded earlier\\)$`))]);
      expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
      // A torn last line (a crash mid-append) is skipped.
      writeFileSync(file, `${written[0]}\nv2|torn`);
      expect(addon.setGemmRecord(file)).toBe(true);
      run();
      expect(addon.gemmChoices?.()[0]).toContain('recorded earlier');
    } finally {
      addon.setGemmRecord(previous);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
