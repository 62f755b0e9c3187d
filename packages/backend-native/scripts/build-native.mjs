#!/usr/bin/env node
// Builds the optional native addon (explicit step, never run by `npm install`). Missing compiler or headers
// => prints "skipped" and exits 0: the wasm path keeps working without it.
//
//   node scripts/build-native.mjs [--blas=auto|openblas|own] [--out=build/Release] [--strict]
//
// The addon is compiled for the baseline ISA of the target (no -march=native): its hot kernels carry
// per-function target attributes (AVX-512, AVX2/FMA, portable) and the variant is chosen from cpuid when it
// loads, so one build runs at full speed on any x86-64 CPU (issue 10). OpenBLAS is not linked: the addon
// loads libopenblas.so.0 at run time when present and times it against its own kernels per GEMM shape.
// --blas=auto|openblas (default, or env SPARSE_LEARNING_NATIVE_BLAS) allow that run-time OpenBLAS; --blas=own
// compiles it out (own kernels only). --blas=openblas additionally fails unless OpenBLAS loads here.
// Every native/*.cc is compiled (other issues add kernel files without editing this script).
// --strict exits 1 when the build fails.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? 'true'];
  }),
);
const strict = args.strict === 'true';
const blasRequest = args.blas ?? process.env.SPARSE_LEARNING_NATIVE_BLAS ?? 'auto';
const outDir = resolve(pkgRoot, args.out ?? 'build/Release');
const cxx = process.env.CXX ?? 'c++';

function skip(why) {
  console.log(`[backend-native] native addon build skipped: ${why}`);
  process.exit(strict ? 1 : 0);
}

function run(cmd, argv, opts = {}) {
  return spawnSync(cmd, argv, { encoding: 'utf8', ...opts });
}

if (!['auto', 'openblas', 'own'].includes(blasRequest)) skip(`unknown --blas=${blasRequest} (auto, openblas, own)`);

const version = run(cxx, ['--version']);
if (version.error || version.status !== 0) skip(`no C++ compiler (${cxx}); install g++ or set CXX`);

const headerCandidates = [
  resolve(process.execPath, '../../include/node'),
  join(homedir(), '.cache/node-gyp', process.versions.node, 'include/node'),
  '/usr/include/node',
  '/usr/local/include/node',
];
const nodeInclude = headerCandidates.find((dir) => existsSync(join(dir, 'node_api.h')));
if (!nodeInclude) skip(`Node-API headers not found (looked in ${headerCandidates.join(', ')})`);

let addonInclude;
try {
  const require = createRequire(join(pkgRoot, 'package.json'));
  addonInclude = dirname(require.resolve('node-addon-api/package.json'));
} catch {
  skip('node-addon-api is not installed');
}

const blas = blasRequest === 'own' ? 'own' : 'runtime';
const archFlags = []; // never -march=native: see the header comment
const sources = readdirSync(join(pkgRoot, 'native')).filter((f) => f.endsWith('.cc')).sort().map((f) => join(pkgRoot, 'native', f));
mkdirSync(outDir, { recursive: true });
const output = join(outDir, 'sparse_native.node');
// Compiled to a temporary name and renamed over the old build only once it loads: a running process that
// has the old addon mapped keeps its (unlinked) file instead of crashing on a truncated one.
const staged = join(outDir, `.sparse_native.${process.pid}.node`);
const flags = [
  '-O3', '-std=c++17', '-fPIC', '-shared', '-pthread', '-fexceptions', ...archFlags,
  '-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS', '-DNODE_ADDON_API_DISABLE_DEPRECATED',
  `-I${nodeInclude}`, `-I${addonInclude}`,
  ...(blas === 'own' ? ['-DSL_NO_OPENBLAS'] : []),
  ...sources, '-o', staged, '-ldl',
];
const started = Date.now();
const build = run(cxx, flags, { stdio: ['ignore', 'inherit', 'inherit'] });
if (build.status !== 0) {
  rmSync(staged, { force: true });
  skip(`compilation failed (${cxx} exited ${build.status}); see the errors above`);
}

// Load it once in a child process: a broken binary must fail here, not in a training run.
const check = run(process.execPath, ['-e', `const a=require(${JSON.stringify(staged)});console.log(JSON.stringify(a.info()))`]);
if (check.status !== 0) {
  rmSync(staged, { force: true });
  skip(`built addon does not load: ${check.stderr.trim()}`);
}
const info = JSON.parse(check.stdout);
if (blasRequest === 'openblas' && !info.openblas?.available) {
  rmSync(staged, { force: true });
  skip(`OpenBLAS requested but it does not load at run time: ${info.openblas?.why ?? 'unknown'}`);
}
renameSync(staged, output);
writeFileSync(join(outDir, 'build-info.json'), `${JSON.stringify({ blas, gemm: info.gemm, isa: info.isa, isas: info.isas, arch: 'baseline + per-function target attributes', builtWith: version.stdout.split('\n')[0], node: process.versions.node }, null, 2)}\n`);
console.log(`[backend-native] built ${output} (isa: ${info.isaReason}; gemm: ${info.gemm}; ${info.threads} threads) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
