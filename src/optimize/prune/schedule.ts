/**
 * Pruning schedules with the semantics of the TensorFlow Model Optimization Toolkit
 * (`tfmot.sparsity.keras.PolynomialDecay` / `ConstantSparsity`):
 *
 *   update(step)  = step ≥ begin  ∧ (step ≤ end ∨ end < 0)  ∧ (step − begin) mod frequency = 0
 *   polynomial:     p = clamp((step − begin) / (end − begin), 0, 1)
 *                   sparsity = final + (initial − final) · (1 − p)^power
 *   constant:       sparsity = target
 *
 * tfmot computes the sparsity in float32; so does this (every intermediate is rounded with
 * Math.fround), so that the number of weights kept, round(size · (1 − sparsity)), is the same.
 */
import { MloptError } from '../../util/errors.js';

export type PruningSchedule =
  | { kind: 'polynomial'; initialSparsity: number; finalSparsity: number; beginStep: number; endStep: number; power?: number; frequency?: number }
  | { kind: 'constant'; targetSparsity: number; beginStep: number; endStep: number; frequency?: number };

export const DEFAULT_POWER = 3;
export const DEFAULT_FREQUENCY = 100;

const f32 = Math.fround;

/** tfmot's `_should_prune_in_step` (floormod: a step before `begin` is never a turn anyway). */
function shouldUpdate(step: number, begin: number, end: number, frequency: number): boolean {
  const inRange = step >= begin && (step <= end || end < 0);
  const turn = (((step - begin) % frequency) + frequency) % frequency === 0;
  return inRange && turn;
}

/** Whether the masks are updated at `step`, and the sparsity (float32 value, as tfmot's) to use then. */
export function scheduleAt(s: PruningSchedule, step: number): { update: boolean; sparsity: number } {
  const frequency = s.frequency ?? DEFAULT_FREQUENCY;
  const update = shouldUpdate(step, s.beginStep, s.endStep, frequency);
  if (s.kind === 'constant') return { update, sparsity: f32(s.targetSparsity) };
  const power = s.power ?? DEFAULT_POWER;
  const ratio = f32(f32(step - s.beginStep) / f32(s.endStep - s.beginStep));
  const p = Math.min(1, Math.max(0, ratio));
  const decay = f32(Math.pow(f32(1 - p), power));
  const sparsity = f32(f32(f32(s.initialSparsity - s.finalSparsity) * decay) + f32(s.finalSparsity));
  return { update, sparsity };
}

function usage(message: string): never {
  throw new MloptError('USAGE', message);
}

function checkSparsity(v: number, flag: string): void {
  if (!Number.isFinite(v) || v < 0 || v >= 1) usage(`${flag} must be a number in [0, 1) (a fraction of the weights set to zero), got ${v}`);
}

function checkStep(v: number, flag: string): void {
  if (!Number.isInteger(v) || v < 0) usage(`${flag} must be a whole number ≥ 0, got ${v}`);
}

/** Throws MloptError('USAGE') naming the CLI flag of the first bad value. */
export function validateSchedule(s: PruningSchedule): void {
  const frequency = s.frequency ?? DEFAULT_FREQUENCY;
  if (s.kind === 'polynomial') {
    checkSparsity(s.finalSparsity, '--final-sparsity');
    checkSparsity(s.initialSparsity, '--initial-sparsity');
    if (s.initialSparsity > s.finalSparsity) {
      usage(`--initial-sparsity (${s.initialSparsity}) must not be above --final-sparsity (${s.finalSparsity})`);
    }
    const power = s.power ?? DEFAULT_POWER;
    if (!Number.isFinite(power) || power <= 0) usage(`--power must be a number > 0, got ${power}`);
  } else {
    checkSparsity(s.targetSparsity, '--final-sparsity');
  }
  checkStep(s.beginStep, '--begin-step');
  const openEnd = s.kind === 'constant' && s.endStep === -1;
  if (!openEnd) {
    if (!Number.isInteger(s.endStep) || s.endStep < 0) {
      usage(`--end-step must be a whole number ≥ 0${s.kind === 'constant' ? ' (or -1: no end)' : ''}, got ${s.endStep}`);
    }
    if (s.endStep <= s.beginStep) usage(`--begin-step (${s.beginStep}) must be before --end-step (${s.endStep})`);
  }
  if (!Number.isInteger(frequency) || frequency < 1) usage(`--frequency must be a whole number ≥ 1, got ${frequency}`);
}
