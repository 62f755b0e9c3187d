import { describe, expect, it } from 'vitest';
import { cli, fixtures } from '../test/run-helpers.js';
import { join } from 'node:path';

describe('sparse-learning plugins', () => {
  it('lists every kind from the registry with its options, a --plugin module included', async () => {
    const r = await cli('plugins', '--json', '--plugin', join(fixtures, 'first-zeros-growth-plugin.mjs'));
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { kind: string; field: string; id: string; options: { name: string; default: unknown }[] }[];
    const ids = (kind: string) => rows.filter((row) => row.kind === kind).map((row) => row.id);
    expect(ids('growth')).toEqual(['first-zeros', 'gradient', 'momentum', 'random']);
    expect(ids('mask-update-trigger')).toEqual(['epoch-end', 'every-k-steps', 'rewire-period']);
    expect(ids('init-hook')).toEqual(['deep-r-signs']);
    const momentum = rows.find((row) => row.kind === 'growth' && row.id === 'momentum');
    expect(momentum?.field).toBe('growth');
    expect(momentum?.options).toEqual([expect.objectContaining({ name: 'legacyTopK', default: false })]);
    expect(rows.find((row) => row.id === 'first-zeros')?.options).toEqual([expect.objectContaining({ name: 'fromEnd', default: false })]);
  });

  it('train --help lists the registered ids of each slot and the option flags', async () => {
    const r = await cli('train', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('growth strategy: gradient, momentum, random, or a plugin id');
    expect(r.stdout).toContain('--growth-opt <key=value>');
    expect(r.stdout).toContain('mask-update trigger: epoch-end, every-k-steps, rewire-period');
  });
});
