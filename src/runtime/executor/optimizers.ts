/**
 * Optimizers with Keras 2's (tf-keras 2.15) defaults and update rules:
 *
 *  SGD (learning_rate 0.01, momentum 0, nesterov false):
 *    momentum = 0:  w ← w − lr·g
 *    else:          m ← momentum·m − lr·g;  w ← w + m            (nesterov: w ← w + momentum·m − lr·g)
 *  Adam (learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7):
 *    t ← t + 1;  α = lr·√(1 − β₂ᵗ) / (1 − β₁ᵗ)
 *    m ← m + (g − m)(1 − β₁);  v ← v + (g² − v)(1 − β₂);  w ← w − α·m / (√v + ε)
 *
 * A mask multiplies the gradient before the update (so momentum cannot revive a pruned weight)
 * and the weight after it.
 */
import { MloptError } from '../../util/errors.js';
import type { Tf, TfTensor, TfVariable } from './types.js';

export type OptimizerConfig =
  | { type: 'sgd'; lr?: number; momentum?: number; nesterov?: boolean }
  | { type: 'adam'; lr?: number; beta1?: number; beta2?: number; epsilon?: number };

export class Optimizer {
  private readonly slots = new Map<TfVariable, TfVariable[]>();
  private iterations = 0;
  readonly key: string;

  constructor(
    private readonly tf: Tf,
    readonly cfg: OptimizerConfig,
  ) {
    if (cfg.type !== 'sgd' && cfg.type !== 'adam') throw new MloptError('USAGE', `unknown optimizer "${String((cfg as { type: unknown }).type)}" (sgd, adam)`);
    const lr = cfg.lr ?? (cfg.type === 'sgd' ? 0.01 : 0.001);
    if (!(lr > 0)) throw new MloptError('USAGE', `learning rate must be > 0, got ${lr}`);
    this.key = JSON.stringify(cfg);
  }

  private slot(w: TfVariable, n: number): TfVariable[] {
    let s = this.slots.get(w);
    if (!s) {
      s = Array.from({ length: n }, () => this.tf.variable(this.tf.zerosLike(w), false));
      this.slots.set(w, s);
    }
    return s;
  }

  /** Apply one update. Call inside tf.tidy. */
  apply(updates: Array<{ w: TfVariable; g: TfTensor; mask?: TfTensor }>): void {
    const tf = this.tf;
    const c = this.cfg;
    this.iterations++;
    if (c.type === 'sgd') {
      const lr = c.lr ?? 0.01;
      const mom = c.momentum ?? 0;
      for (const { w, g: g0, mask } of updates) {
        const g = mask ? tf.mul(g0, mask) : g0;
        if (mom === 0) {
          w.assign(tf.sub(w, tf.mul(g, lr)));
        } else {
          const [m] = this.slot(w, 1) as [TfVariable];
          const mNew = tf.sub(tf.mul(m, mom), tf.mul(g, lr));
          m.assign(mNew);
          w.assign(c.nesterov ? tf.add(w, tf.sub(tf.mul(mNew, mom), tf.mul(g, lr))) : tf.add(w, mNew));
        }
        if (mask) w.assign(tf.mul(w, mask));
      }
      return;
    }
    const lr = c.lr ?? 0.001;
    const b1 = c.beta1 ?? 0.9;
    const b2 = c.beta2 ?? 0.999;
    const eps = c.epsilon ?? 1e-7;
    const t = this.iterations;
    const alpha = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
    for (const { w, g: g0, mask } of updates) {
      const g = mask ? tf.mul(g0, mask) : g0;
      const [m, v] = this.slot(w, 2) as [TfVariable, TfVariable];
      const mNew = tf.add(m, tf.mul(tf.sub(g, m), 1 - b1));
      const vNew = tf.add(v, tf.mul(tf.sub(tf.square(g), v), 1 - b2));
      m.assign(mNew);
      v.assign(vNew);
      w.assign(tf.sub(w, tf.div(tf.mul(mNew, alpha), tf.add(tf.sqrt(vNew), eps))));
      if (mask) w.assign(tf.mul(w, mask));
    }
  }

  dispose(): void {
    for (const s of this.slots.values()) for (const v of s) v.dispose();
    this.slots.clear();
  }
}
