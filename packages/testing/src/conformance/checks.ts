/**
 * The mask checks of the conformance suites as plain functions (problem lists, empty when fine), so they can be
 * reused outside vitest and are themselves tested against broken outputs.
 */
import { maskProblems } from './fixtures.js';

/**
 * Problems of a prune result against the contract (docs/algorithm.md#the-mask-update): a 0/1 `Uint8Array` of the layer size, a
 * subset of `before`, a new array, and for `'exact'` with `count > 0` exactly `min(count, active)` removed.
 */
export function pruneResultProblems(before: Uint8Array, result: unknown, countPolicy: string, count: number): string[] {
  const problems = maskProblems(result, before.length);
  if (problems.length > 0) return problems;
  const after = result as Uint8Array;
  if (after === before) problems.push('returned the input mask itself; must return a new array');
  let removed = 0;
  let active = 0;
  for (let i = 0; i < before.length; i++) {
    active += before[i];
    if (after[i] > before[i]) {
      problems.push(`switched on position ${i}, which was inactive`);
      break;
    }
    removed += before[i] - after[i];
  }
  if (countPolicy === 'exact' && count > 0 && removed !== Math.min(count, active)) {
    problems.push(`removed ${removed}; countPolicy 'exact' requires ${Math.min(count, active)}`);
  }
  return problems;
}

/**
 * Problems of a growth result against the contract (docs/algorithm.md#the-mask-update): a 0/1 `Uint8Array` of the layer size, a
 * superset of the pruned mask (nothing switched off, nothing "grown" onto an active weight), a new array, and
 * the count of its policy: `'exact'` = `min(count, zeros)`, `'at-most'` ≤ that, `'stochastic'` ≤ zeros.
 */
export function growthResultProblems(pruned: Uint8Array, result: unknown, countPolicy: string, count: number): string[] {
  const problems = maskProblems(result, pruned.length);
  if (problems.length > 0) return problems;
  const after = result as Uint8Array;
  if (after === pruned) problems.push('returned the input mask itself; must return a new array');
  let grown = 0;
  let zeros = 0;
  for (let i = 0; i < pruned.length; i++) {
    if (pruned[i] === 0) zeros++;
    if (after[i] < pruned[i]) {
      problems.push(`switched off active position ${i}`);
      break;
    }
    grown += after[i] - pruned[i];
  }
  const expected = Math.min(Math.max(count, 0), zeros);
  if (countPolicy === 'exact' && grown !== expected) problems.push(`grew ${grown}; countPolicy 'exact' requires ${expected}`);
  if (countPolicy === 'at-most' && grown > expected) problems.push(`grew ${grown}; countPolicy 'at-most' allows ${expected}`);
  if (countPolicy === 'stochastic' && grown > zeros) problems.push(`grew ${grown} but only ${zeros} positions were zero`);
  return problems;
}
