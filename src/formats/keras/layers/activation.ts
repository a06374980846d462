/**
 * Activation layers: Activation, ReLU, LeakyReLU, PReLU, ELU, ThresholdedReLU, Softmax.
 */
import { activationName, emitActivation } from '../activations.js';
import { type LayerHandler, float, int } from '../context.js';

const activation: LayerHandler = {
  apply(c) {
    const y = c.out();
    emitActivation(c.b, activationName(c.config.activation), c.x, y, c.where);
    return y;
  },
};

/** ReLU(max_value, negative_slope, threshold): x ≥ threshold ? min(x, max) : slope · (x − threshold). */
const relu: LayerHandler = {
  apply(c) {
    const max = c.get<number | null>('max_value', null);
    const slope = c.get('negative_slope', 0);
    const threshold = c.get('threshold', 0);
    if (threshold !== 0) c.fail(`threshold ${threshold} is not supported`);
    const y = c.out();
    if (slope === 0) {
      if (max === null) c.b.node('Relu', [c.x], [y]);
      else c.b.node('Clip', [c.x, c.b.scalar('zero', 0), c.b.scalar('max', max)], [y]);
      return y;
    }
    if (max === null) {
      c.b.node('LeakyRelu', [c.x], [y], { alpha: float(slope) });
      return y;
    }
    const t = c.out('/leaky');
    c.b.node('LeakyRelu', [c.x], [t], { alpha: float(slope) });
    c.b.node('Min', [t, c.b.scalar('max', max)], [y]);
    return y;
  },
};

const leakyRelu: LayerHandler = {
  apply(c) {
    const y = c.out();
    c.b.node('LeakyRelu', [c.x], [y], { alpha: float(c.get('negative_slope', c.get('alpha', 0.3))) });
    return y;
  },
};

const prelu: LayerHandler = {
  weighted: true,
  apply(c) {
    // alpha has the input's shape without the batch (1 along shared_axes): it broadcasts as is
    const y = c.out();
    c.b.node('PRelu', [c.x, c.weight(0, 'alpha')], [y]);
    return y;
  },
};

const elu: LayerHandler = {
  apply(c) {
    const y = c.out();
    c.b.node('Elu', [c.x], [y], { alpha: float(c.get('alpha', 1)) });
    return y;
  },
};

const thresholdedRelu: LayerHandler = {
  apply(c) {
    const y = c.out();
    c.b.node('ThresholdedRelu', [c.x], [y], { alpha: float(c.get('theta', 1)) });
    return y;
  },
};

const softmax: LayerHandler = {
  apply(c) {
    const axis = c.get<number | number[]>('axis', -1);
    const a = Array.isArray(axis) ? axis : [axis];
    if (a.length !== 1) c.fail('a softmax over several axes is not supported');
    const y = c.out();
    c.b.node('Softmax', [c.x], [y], { axis: int(a[0]!) });
    return y;
  },
};

export const ACTIVATION_LAYERS: Record<string, LayerHandler> = {
  Activation: activation,
  ReLU: relu,
  LeakyReLU: leakyRelu,
  PReLU: prelu,
  ELU: elu,
  ThresholdedReLU: thresholdedRelu,
  Softmax: softmax,
};
