/**
 * Publishable manifests: what a registry user installs must resolve. Sibling dependencies are real version
 * ranges that accept the sibling's current version (changesets keeps them in step), no export condition points
 * at files that are not shipped, every tarball carries the MIT LICENSE, and a changeset covers every package.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { publishablePackages, repoRoot } from './release-helpers.js';

const packages = publishablePackages();
const versions = new Map(packages.map((p) => [p.manifest.name as string, p.manifest.version as string]));

/** Whether `^x.y.z` accepts `version` (npm semantics for 0.x: same minor; otherwise same major). */
function caretAccepts(range: string, version: string): boolean {
  const m = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range);
  const v = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!m || !v) return false;
  const [rMaj, rMin, rPat] = m.slice(1).map(Number);
  const [vMaj, vMin, vPat] = v.slice(1).map(Number);
  if (rMaj !== vMaj) return false;
  if (rMaj === 0) return rMin === vMin && vPat >= rPat;
  return vMin > rMin || (vMin === rMin && vPat >= rPat);
}

describe('package manifests', () => {
  it('finds the ten publishable packages', () => {
    expect(packages.map((p) => p.dir).sort()).toEqual(
      ['backend-native', 'checkpoint', 'core', 'datasets', 'growth', 'models', 'prune', 'redistribution', 'runner', 'testing'],
    );
  });

  for (const pkg of packages) {
    it(`${pkg.manifest.name}: sibling ranges, shipped exports, LICENSE, files`, () => {
      for (const field of ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies']) {
        for (const [name, range] of Object.entries<string>(pkg.manifest[field] ?? {})) {
          if (!versions.has(name)) continue;
          expect(caretAccepts(range, versions.get(name)!), `${field} ${name}@${range} vs ${versions.get(name)}`).toBe(true);
        }
      }
      const files: string[] = pkg.manifest.files;
      // npm always packs package.json, README and LICENSE; everything else must be listed in "files".
      const shipped = (target: string) => ['package.json', ...files].some((entry) => target.replace(/^\.\//, '').startsWith(entry.replace(/\/$/, '')));
      const conditions: string[] = [];
      const walk = (value: unknown, key: string): void => {
        if (typeof value === 'string') {
          expect(shipped(value), `${key} -> ${value} is not in "files"`).toBe(true);
          expect(existsSync(join(pkg.path, value)) || value.startsWith('./dist/'), `${key} -> ${value}`).toBe(true);
        } else if (value && typeof value === 'object') {
          for (const [k, v] of Object.entries(value)) {
            conditions.push(k);
            walk(v, k);
          }
        }
      };
      walk(pkg.manifest.exports, 'exports');
      expect(conditions).not.toContain('source');
      for (const target of Object.values<string>(pkg.manifest.bin ?? {})) {
        expect(existsSync(join(pkg.path, target)), `bin ${target} is committed`).toBe(true);
        expect(shipped(target), `bin ${target}`).toBe(true);
      }
      expect(pkg.manifest.license).toBe('MIT');
      expect(files).toContain('LICENSE');
      expect(readFileSync(join(pkg.path, 'LICENSE'), 'utf8')).toBe(readFileSync(join(repoRoot, 'LICENSE'), 'utf8'));
      expect(pkg.manifest.publishConfig?.access).toBe('public');
    });
  }

  it('the root LICENSE is the MIT license', () => {
    expect(readFileSync(join(repoRoot, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n/);
  });

  it('the pending changesets cover every publishable package', () => {
    const dir = join(repoRoot, '.changeset');
    const covered = new Set<string>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
      const front = /^---\n([\s\S]*?)\n---/.exec(readFileSync(join(dir, file), 'utf8'))?.[1] ?? '';
      for (const m of front.matchAll(/^"([^"]+)":\s*(patch|minor|major)$/gm)) covered.add(m[1]);
    }
    for (const name of versions.keys()) expect(covered, name).toContain(name);
  });

  it('changesets updates the sibling ranges of dependents on every release', () => {
    const config = JSON.parse(readFileSync(join(repoRoot, '.changeset/config.json'), 'utf8'));
    expect(config.updateInternalDependencies).toBe('patch');
  });
});
