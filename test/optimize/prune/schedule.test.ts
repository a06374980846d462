import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIXTURES } from '../../helpers.js';
import { type PruningSchedule, scheduleAt, validateSchedule } from '../../../src/optimize/prune/schedule.js';
import { MloptError } from '../../../src/util/errors.js';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-6, `${what}: ${a} vs ${b}`);

const poly: PruningSchedule = { kind: 'polynomial', initialSparsity: 0.5, finalSparsity: 0.9, beginStep: 0, endStep: 100, frequency: 10 };

test('polynomial decay: formula and update steps (hand values)', () => {
  const at = (step: number) => scheduleAt(poly, step);
  assert.deepEqual([at(0).update, at(5).update, at(10).update, at(100).update, at(110).update], [true, false, true, true, false]);
  close(at(0).sparsity, 0.5, 'step 0');
  // p = 0.5: 0.9 + (0.5 − 0.9)·0.5³ = 0.85
  close(at(50).sparsity, 0.85, 'step 50');
  // p = 0.25: 0.9 − 0.4·0.75³
  close(at(25).sparsity, 0.9 - 0.4 * 0.75 ** 3, 'step 25');
  close(at(100).sparsity, 0.9, 'step 100');
  close(at(1000).sparsity, 0.9, 'after the end: final');
  // default power 3 / frequency 100
  const d = scheduleAt({ kind: 'polynomial', initialSparsity: 0, finalSparsity: 0.8, beginStep: 0, endStep: 1000 }, 100);
  assert.equal(d.update, true);
  close(d.sparsity, 0.8 - 0.8 * 0.9 ** 3, 'defaults');
  assert.equal(scheduleAt({ kind: 'polynomial', initialSparsity: 0, finalSparsity: 0.8, beginStep: 0, endStep: 1000 }, 150).update, false);
  // power 1: linear
  close(scheduleAt({ ...poly, power: 1 }, 50).sparsity, 0.7, 'linear');
});

test('polynomial decay: begin offset, before begin, frequency counted from begin', () => {
  const s: PruningSchedule = { kind: 'polynomial', initialSparsity: 0.2, finalSparsity: 0.6, beginStep: 7, endStep: 27, frequency: 5 };
  assert.equal(scheduleAt(s, 2).update, false, 'before begin: (2 - 7) mod 5 = 0 but out of range');
  close(scheduleAt(s, 2).sparsity, 0.2, 'before begin: initial');
  assert.deepEqual([7, 12, 17, 22, 27].map((t) => scheduleAt(s, t).update), [true, true, true, true, true]);
  assert.deepEqual([8, 10, 15, 26, 32].map((t) => scheduleAt(s, t).update), [false, false, false, false, false]);
  close(scheduleAt(s, 17).sparsity, 0.6 - 0.4 * 0.5 ** 3, 'middle');
});

test('constant sparsity: target at every turn, end -1 never stops', () => {
  const c: PruningSchedule = { kind: 'constant', targetSparsity: 0.75, beginStep: 3, endStep: -1, frequency: 4 };
  assert.deepEqual([0, 3, 5, 7, 1_000_003].map((t) => scheduleAt(c, t).update), [false, true, false, true, true]);
  close(scheduleAt(c, 0).sparsity, 0.75, 'target');
  const ended: PruningSchedule = { kind: 'constant', targetSparsity: 0.5, beginStep: 0, endStep: 200 };
  assert.deepEqual([0, 100, 200, 300].map((t) => scheduleAt(ended, t).update), [true, true, true, false]);
});

test('sparsity is tfmot\'s float32 value', () => {
  const v = scheduleAt({ kind: 'constant', targetSparsity: 0.9, beginStep: 0, endStep: -1 }, 0).sparsity;
  assert.equal(v, Math.fround(0.9));
});

function usageError(s: PruningSchedule, flag: string): void {
  assert.throws(
    () => validateSchedule(s),
    (e: unknown) => e instanceof MloptError && e.code === 'USAGE' && e.message.includes(flag) && !e.message.includes('\n'),
    `expected a USAGE error naming ${flag}`,
  );
}

test('validateSchedule: accepts good schedules, names the flag of a bad value', () => {
  validateSchedule(poly);
  validateSchedule({ kind: 'constant', targetSparsity: 0, beginStep: 0, endStep: -1 });
  validateSchedule({ kind: 'polynomial', initialSparsity: 0.9, finalSparsity: 0.9, beginStep: 5, endStep: 6, power: 0.5, frequency: 1 });
  usageError({ ...poly, finalSparsity: 1.2 }, '--final-sparsity');
  usageError({ ...poly, finalSparsity: 1 }, '--final-sparsity');
  usageError({ ...poly, finalSparsity: Number.NaN }, '--final-sparsity');
  usageError({ ...poly, initialSparsity: -0.1 }, '--initial-sparsity');
  usageError({ ...poly, initialSparsity: 0.95 }, '--initial-sparsity');
  usageError({ ...poly, beginStep: -1 }, '--begin-step');
  usageError({ ...poly, beginStep: 1.5 }, '--begin-step');
  usageError({ ...poly, beginStep: 200 }, '--begin-step');
  usageError({ ...poly, beginStep: 100 }, '--end-step');
  usageError({ ...poly, endStep: -1 }, '--end-step');
  usageError({ ...poly, frequency: 0 }, '--frequency');
  usageError({ ...poly, frequency: 2.5 }, '--frequency');
  usageError({ ...poly, power: 0 }, '--power');
  usageError({ ...poly, power: -1 }, '--power');
  usageError({ kind: 'constant', targetSparsity: 1.5, beginStep: 0, endStep: -1 }, '--final-sparsity');
  usageError({ kind: 'constant', targetSparsity: 0.5, beginStep: 0, endStep: -2 }, '--end-step');
  usageError({ kind: 'constant', targetSparsity: 0.5, beginStep: 10, endStep: 5 }, '--end-step');
});

interface ReferenceCase {
  tfmot: string;
  config: PruningSchedule;
  steps: number[];
  update: boolean[];
  sparsity: Array<number | null>;
}

test('pinned against tfmot 0.7.5 (fixtures/reference/prune_schedules.json)', () => {
  const ref = JSON.parse(readFileSync(join(FIXTURES, 'reference', 'prune_schedules.json'), 'utf8')) as { cases: ReferenceCase[] };
  assert.ok(ref.cases.length >= 10, 'reference cases');
  let compared = 0;
  for (const c of ref.cases) {
    c.steps.forEach((step, i) => {
      const got = scheduleAt(c.config, step);
      assert.equal(got.update, c.update[i], `${c.tfmot} step ${step}: update`);
      const want = c.sparsity[i];
      if (want === null) assert.ok(Number.isNaN(got.sparsity), `${c.tfmot} step ${step}: tfmot gives NaN`);
      else close(got.sparsity, want, `${c.tfmot} step ${step}`);
      compared++;
    });
    // mlopt accepts what tfmot accepts, except begin == end (0/0 in tfmot)
    if (c.config.beginStep === c.config.endStep) assert.throws(() => validateSchedule(c.config), /--end-step/);
    else validateSchedule(c.config);
  }
  assert.ok(compared > 3000, `compared ${compared} steps`);
});
