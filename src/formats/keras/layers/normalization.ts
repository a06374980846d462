/**
 * Normalization layers: BatchNormalization (inference: moving statistics) and
 * LayerNormalization. Both normalize over trailing channels-last axes.
 */
import type { Tensor } from '../../../ir/tensor.js';
import { type LayerCall, type LayerHandler, float, int } from '../context.js';

function axesOf(c: LayerCall, rank: number, dflt: number | number[]): number[] {
  const a = c.get<number | number[]>('axis', dflt);
  return (Array.isArray(a) ? a : [a]).map((v) => (v < 0 ? v + rank : v)).sort((p, q) => p - q);
}

const filled = (n: number, v: number): Tensor => ({ dtype: 'float32', shape: [n], data: new Float32Array(n).fill(v) });

const batchNorm: LayerHandler = {
  weighted: true,
  apply(c) {
    const rank = c.rank();
    const axes = axesOf(c, rank, -1);
    if (axes.length !== 1 || axes[0] !== rank - 1) c.fail(`normalizing axis ${c.config.axis} is not supported (only the last, channels-last axis is)`);
    const scale = c.config.scale !== false;
    const center = c.config.center !== false;
    const w = c.weights;
    const channels = w[w.length - 1]?.shape[0];
    if (channels === undefined || w.length !== 2 + Number(scale) + Number(center)) {
      c.fail(`expected ${2 + Number(scale) + Number(center)} weights, found ${w.length}`, undefined, 'CORRUPT_MODEL');
    }
    let i = 0;
    const gamma = scale ? c.weight(i++, 'gamma') : c.b.constant(`${c.prefix}${c.name}/ones`, filled(channels, 1));
    const beta = center ? c.weight(i++, 'beta') : c.b.constant(`${c.prefix}${c.name}/zeros`, filled(channels, 0));
    const mean = c.weight(i++, 'moving_mean');
    const variance = c.weight(i++, 'moving_variance');
    const y = c.out();
    // a rank-2 [N, C] input is the same in both layouts
    c.b.node('BatchNormalization', [c.x, gamma, beta, mean, variance], [y], { epsilon: float(c.get('epsilon', 1e-3)), momentum: float(c.get('momentum', 0.99)) }, rank > 2 ? 'NHWC' : undefined);
    return y;
  },
};

const layerNorm: LayerHandler = {
  weighted: (config) => config.scale !== false || config.center !== false,
  apply(c) {
    const rank = c.rank();
    const axes = axesOf(c, rank, -1);
    if (axes.some((a, k) => a !== rank - axes.length + k)) c.fail(`normalizing axes [${axes.join(', ')}] is not supported (trailing axes are)`);
    if (c.config.rms_scaling === true) c.fail('rms_scaling is not supported');
    const scale = c.config.scale !== false;
    const center = c.config.center !== false;
    const shape = c.shape(c.x)!.slice(axes[0]);
    if (!scale && shape.some((d) => typeof d !== 'number')) c.fail('the size of a normalized axis is unknown');
    let i = 0;
    const n = shape.reduce<number>((p, d) => p * (d as number), 1);
    const gamma = scale ? c.weight(i++, 'gamma') : c.b.constant(`${c.prefix}${c.name}/ones`, { dtype: 'float32', shape: shape as number[], data: new Float32Array(n).fill(1) });
    const beta = center ? c.weight(i++, 'beta') : undefined;
    const y = c.out();
    c.b.node('LayerNormalization', [c.x, gamma, ...(beta ? [beta] : [])], [y], { axis: int(axes[0]!), epsilon: float(c.get('epsilon', 1e-3)) });
    return y;
  },
};

export const NORMALIZATION_LAYERS: Record<string, LayerHandler> = {
  BatchNormalization: batchNorm,
  LayerNormalization: layerNorm,
};
