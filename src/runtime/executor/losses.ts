/**
 * Training losses, as Keras 2 computes them (mean over the batch):
 *
 *  - crossentropy: labels as class indices [N] / [N,1] (sparse) or one-hot / soft targets
 *    [N,K]. From logits when the model's output is a Softmax (its input is used, as Keras does
 *    for numerical stability) or when `fromLogits`; otherwise from probabilities clipped to
 *    [1e-7, 1 − 1e-7] (dense targets: probabilities renormalised first, as Keras does).
 *  - mse: mean of squared differences.
 *  - kld (distillation): T² · KL(softmax(teacher / T) ‖ softmax(student / T)), teacher given as
 *    logits or probabilities (probabilities enter as log p); optionally mixed with the hard-label
 *    crossentropy: α · CE(labels, student) + (1 − α) · T² · KL.
 */
import { MloptError } from '../../util/errors.js';
import type { Tf, TfTensor } from './types.js';

export const EPSILON = 1e-7;

export interface LossConfig {
  loss: 'crossentropy' | 'mse' | 'kld';
  /** the output (when it is not a Softmax) holds logits, not probabilities */
  fromLogits?: boolean;
  /** distillation temperature (kld; default 1) */
  temperature?: number;
  /** the teacher's values are logits (default: probabilities when every row is a distribution) */
  teacherFromLogits?: boolean;
  /** kld: weight α of the hard-label crossentropy (needs labels; default 0) */
  hardLabelWeight?: number;
}

export interface LossInputs {
  /** the model output the loss reads */
  output: TfTensor;
  /** the logits behind it, when the output is a Softmax */
  logits?: TfTensor;
  targets?: TfTensor;
  teacher?: TfTensor;
  teacherIsLogits?: boolean;
}

/** log-probabilities of the model's prediction (last axis). */
function logProbs(tf: Tf, li: LossInputs, fromLogits: boolean, temperature = 1, renormalise = false): TfTensor {
  const z = li.logits ?? (fromLogits ? li.output : undefined);
  if (z) return tf.logSoftmax(temperature === 1 ? z : tf.div(z, temperature));
  let p = li.output;
  if (renormalise) p = tf.div(p, tf.sum(p, -1, true));
  const lp = tf.log(tf.clipByValue(p, EPSILON, 1 - EPSILON));
  return temperature === 1 ? lp : tf.logSoftmax(tf.div(lp, temperature));
}

function crossentropy(tf: Tf, li: LossInputs, fromLogits: boolean): TfTensor {
  const t = li.targets;
  if (!t) throw new MloptError('USAGE', 'the crossentropy loss needs labels (targets)');
  const k = li.output.shape[li.output.rank - 1]!;
  const sparse = t.dtype === 'int32' || t.rank === 1 || (t.rank === 2 && t.shape[1] === 1 && k > 1);
  const lp = logProbs(tf, li, fromLogits, 1, !sparse);
  const dense = sparse ? tf.oneHot(tf.reshape(tf.cast(t, 'int32'), [-1]), k) : t;
  return tf.mean(tf.neg(tf.sum(tf.mul(tf.cast(dense, 'float32'), lp), -1)));
}

export function lossValue(tf: Tf, cfg: LossConfig, li: LossInputs): TfTensor {
  switch (cfg.loss) {
    case 'crossentropy':
      return crossentropy(tf, li, cfg.fromLogits === true);
    case 'mse': {
      if (!li.targets) throw new MloptError('USAGE', 'the mse loss needs targets');
      return tf.mean(tf.squaredDifference(li.output, tf.cast(li.targets, 'float32')));
    }
    case 'kld': {
      const teacher = li.teacher;
      if (!teacher) throw new MloptError('USAGE', 'the kld (distillation) loss needs teacher outputs');
      const T = cfg.temperature ?? 1;
      if (!(T > 0)) throw new MloptError('USAGE', `distillation temperature must be > 0, got ${T}`);
      const student = logProbs(tf, li, cfg.fromLogits === true, T);
      const tz = li.teacherIsLogits ? teacher : tf.log(tf.clipByValue(teacher, EPSILON, 1));
      const pt = tf.logSoftmax(T === 1 ? tz : tf.div(tz, T));
      const kl = tf.mul(tf.mean(tf.sum(tf.mul(tf.exp(pt), tf.sub(pt, student)), -1)), T * T);
      const a = cfg.hardLabelWeight ?? 0;
      if (!a) return kl;
      return tf.add(tf.mul(crossentropy(tf, li, cfg.fromLogits === true), a), tf.mul(kl, 1 - a));
    }
    default:
      throw new MloptError('USAGE', `unknown loss "${String((cfg as { loss: unknown }).loss)}" (crossentropy, mse, kld)`);
  }
}

/** Whether rows of `data` ([rows, cols]) look like probability distributions. */
export function rowsAreDistributions(data: ArrayLike<number>, cols: number): boolean {
  if (cols < 1) return false;
  const rows = Math.floor(data.length / cols);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) {
      const v = data[r * cols + c]!;
      if (!(v >= 0 && v <= 1)) return false;
      s += v;
    }
    if (Math.abs(s - 1) > 1e-3) return false;
  }
  return true;
}
