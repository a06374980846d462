/**
 * Keras activation functions → IR ops (one small emitter per name), and their names in the
 * ONNX recurrent ops' `activations` attribute.
 */
import type { Attr } from '../../ir/graph.js';
import type { Builder } from './context.js';

type Emit = (b: Builder, x: string, y: string) => void;

const f = (value: number): Attr => ({ type: 'float', value });

/** Keras 2 hard_sigmoid is clip(0.2x + 0.5), Keras 3 clip(x/6 + 0.5). */
export function hardSigmoidAlpha(kerasMajor: number): number {
  return kerasMajor >= 3 ? 1 / 6 : 0.2;
}

const unary = (op: string, attrs: Record<string, Attr> = {}): Emit => (b, x, y) => b.node(op, [x], [y], attrs);

const ACTIVATIONS: Record<string, Emit> = {
  linear: unary('Identity'),
  relu: unary('Relu'),
  relu6: (b, x, y) => b.node('Clip', [x, b.scalar('zero', 0), b.scalar('six', 6)], [y]),
  sigmoid: unary('Sigmoid'),
  tanh: unary('Tanh'),
  softmax: unary('Softmax', { axis: { type: 'int', value: -1 } }),
  log_softmax: unary('LogSoftmax', { axis: { type: 'int', value: -1 } }),
  hard_sigmoid: (b, x, y) => b.node('HardSigmoid', [x], [y], { alpha: f(hardSigmoidAlpha(b.kerasMajor)), beta: f(0.5) }),
  swish: (b, x, y) => {
    const s = b.value('sigmoid');
    b.node('Sigmoid', [x], [s]);
    b.node('Mul', [x, s], [y]);
  },
  hard_swish: (b, x, y) => {
    const s = b.value('hard_sigmoid');
    b.node('HardSigmoid', [x], [s], { alpha: f(1 / 6), beta: f(0.5) });
    b.node('Mul', [x, s], [y]);
  },
  elu: unary('Elu', { alpha: f(1) }),
  selu: unary('Selu', { alpha: f(1.6732632423543772), gamma: f(1.0507009873554805) }),
  softplus: unary('Softplus'),
  softsign: unary('Softsign'),
  exponential: unary('Exp'),
  gelu: (b, x, y) => {
    // Keras' default gelu is exact (approximate=False): x/2 (1 + erf(x/√2))
    const t = b.value('gelu');
    const e = b.value('gelu');
    const p = b.value('gelu');
    b.node('Mul', [x, b.scalar('inv_sqrt2', Math.SQRT1_2)], [t]);
    b.node('Erf', [t], [e]);
    b.node('Add', [e, b.scalar('one', 1)], [p]);
    const h = b.value('gelu');
    b.node('Mul', [x, p], [h]);
    b.node('Mul', [h, b.scalar('half', 0.5)], [y]);
  },
  mish: (b, x, y) => {
    const s = b.value('softplus');
    const t = b.value('tanh');
    b.node('Softplus', [x], [s]);
    b.node('Tanh', [s], [t]);
    b.node('Mul', [x, t], [y]);
  },
  leaky_relu: unary('LeakyRelu', { alpha: f(0.2) }),
};
ACTIVATIONS.silu = ACTIVATIONS.swish!;
ACTIVATIONS.hard_silu = ACTIVATIONS.hard_swish!;

export const ACTIVATION_NAMES = Object.keys(ACTIVATIONS).sort();

/** A Keras activation: a name, or a serialized {class_name, config} (Keras 3 may write either). */
export function activationName(a: unknown): string {
  if (a === undefined || a === null) return 'linear';
  if (typeof a === 'string') return a;
  const o = a as { class_name?: string; config?: { name?: string } };
  return o.config?.name ?? o.class_name ?? String(a);
}

export function emitActivation(b: Builder, name: string, x: string, y: string, where: string): void {
  const emit = ACTIVATIONS[name];
  if (!emit) {
    b.fail('UNSUPPORTED', `activation "${name}" of ${where} is not supported by mlopt`, `supported: ${ACTIVATION_NAMES.join(', ')}; a custom activation cannot be loaded: re-save without it or convert through ONNX`);
  }
  emit(b, x, y);
}

/** ONNX LSTM/GRU `activations` entry for a Keras activation, with its alpha/beta. */
export function rnnActivation(b: Builder, name: string, where: string): { name: string; alpha?: number; beta?: number } {
  switch (name) {
    case 'sigmoid': return { name: 'Sigmoid' };
    case 'tanh': return { name: 'Tanh' };
    case 'relu': return { name: 'Relu' };
    case 'hard_sigmoid': return { name: 'HardSigmoid', alpha: hardSigmoidAlpha(b.kerasMajor), beta: 0.5 };
    case 'linear': return { name: 'Affine', alpha: 1, beta: 0 };
    case 'softsign': return { name: 'Softsign' };
    case 'softplus': return { name: 'Softplus' };
    case 'elu': return { name: 'Elu', alpha: 1 };
    default:
      return b.fail('UNSUPPORTED', `activation "${name}" of ${where} has no ONNX recurrent equivalent`, 'supported in LSTM/GRU: sigmoid, tanh, relu, hard_sigmoid, linear, softsign, softplus, elu');
  }
}
