/**
 * Core layers: Dense, Embedding, Rescaling, Normalization, and the layers that do nothing at
 * inference (Dropout and its relatives, ActivityRegularization).
 */
import { isFloatDType } from '../../../ir/dtype.js';
import type { Tensor } from '../../../ir/tensor.js';
import { type LayerCall, type LayerHandler, type WeightMapping, int } from '../context.js';

const dense: LayerHandler = {
  weighted: true,
  apply(c) {
    const kernel = c.weight(0, 'kernel');
    const bias = c.config.use_bias !== false && c.weights.length > 1 ? c.weight(1, 'bias') : undefined;
    return c.withActivation((y) => {
      if (!bias) return void c.b.node('MatMul', [c.x, kernel], [y]);
      const mm = c.out('/matmul');
      c.b.node('MatMul', [c.x, kernel], [mm]);
      c.b.node('Add', [mm, bias], [y]);
    });
  },
};

const identity: LayerHandler = { apply: (c) => c.x };

const embedding: LayerHandler = {
  weighted: true,
  apply(c) {
    if (c.config.mask_zero === true) c.fail('mask_zero=True (masking) is not supported', 're-save the model with mask_zero=False, or convert through ONNX');
    const table = c.weight(0, 'embeddings');
    let ids = c.x;
    const dt = c.b.typeOf(ids)?.dtype;
    if (dt !== 'int32' && dt !== 'int64') {
      // Keras casts the ids to int32
      ids = c.out('/ids');
      c.b.node('Cast', [c.x], [ids], { to: int(7) });
    }
    const y = c.out();
    c.b.node('Gather', [table, ids], [y], { axis: int(0) });
    return y;
  },
};

/** Keras casts the input of a preprocessing layer to float. */
function asFloat(c: LayerCall): string {
  const dt = c.b.typeOf(c.x)?.dtype;
  if (dt === undefined || isFloatDType(dt)) return c.x;
  const f = c.out('/float');
  c.b.node('Cast', [c.x], [f], { to: int(1) });
  return f;
}

function numbersOf(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return (v as unknown[]).flat(8) as number[];
  return [];
}

const rescaling: LayerHandler = {
  apply(c) {
    const scale = numbersOf(c.get('scale', 1));
    const offset = numbersOf(c.get('offset', 0));
    const x = asFloat(c);
    const scaled = c.out('/scaled');
    c.b.node('Mul', [x, scale.length === 1 ? c.b.scalar('scale', scale[0]!) : c.b.floats('scale', scale)], [scaled]);
    const y = c.out();
    c.b.node('Add', [scaled, offset.length === 1 ? c.b.scalar('offset', offset[0]!) : c.b.floats('offset', offset)], [y]);
    return y;
  },
};

/**
 * Normalization: (x - mean) / max(sqrt(var), 1e-7), or mean + x · max(sqrt(var), 1e-7) when
 * `invert`. mean and variance come from the config (given to the constructor) or from the
 * weights (adapt()); they broadcast over the kept axes.
 */
const normalization: LayerHandler = {
  weighted: (config) => config.mean === undefined || config.mean === null,
  apply(c) {
    const x = asFloat(c);
    const rank = c.rank(x);
    const shape = c.shape(x)!;
    const axes = ((): number[] => {
      const a = c.config.axis;
      const list = a === null ? [] : Array.isArray(a) ? (a as number[]) : [typeof a === 'number' ? a : -1];
      return list.map((v) => (v < 0 ? v + rank : v));
    })();
    const bshape = shape.map((d, i) => (axes.includes(i) ? (typeof d === 'number' ? d : -1) : 1));
    if (bshape.some((d) => d < 0)) c.fail('the size of a normalized axis is unknown');
    const reshape = (t: Tensor): Tensor => (t.data.length === bshape.reduce((p, q) => p * q, 1) ? { ...t, shape: bshape } : t);
    let mean: string;
    let variance: string;
    if (c.config.mean !== undefined && c.config.mean !== null) {
      const fill = (v: unknown): string => {
        const values = numbersOf(v);
        const t: Tensor = { dtype: 'float32', shape: values.length === 1 ? [] : [values.length], data: Float32Array.from(values) };
        return c.b.constant(`${c.prefix}${c.name}/const`, reshape(t));
      };
      mean = fill(c.config.mean);
      variance = fill(c.config.variance);
    } else {
      const back = (w: Tensor): WeightMapping => ({ to: reshape, back: (t) => ({ ...t, shape: [...w.shape] }) });
      mean = c.weight(0, 'mean', back(c.weights[0]!));
      variance = c.weight(1, 'variance', back(c.weights[1]!));
      c.keep(2, 'count');
    }
    const sd = c.out('/std');
    const sdc = c.out('/std_clamped');
    c.b.node('Sqrt', [variance], [sd]);
    c.b.node('Max', [sd, c.b.scalar('epsilon', 1e-7)], [sdc]);
    const y = c.out();
    if (c.config.invert === true) {
      const t = c.out('/scaled');
      c.b.node('Mul', [x, sdc], [t]);
      c.b.node('Add', [t, mean], [y]);
    } else {
      const t = c.out('/centered');
      c.b.node('Sub', [x, mean], [t]);
      c.b.node('Div', [t, sdc], [y]);
    }
    return y;
  },
};

export const CORE_LAYERS: Record<string, LayerHandler> = {
  Dense: dense,
  Embedding: embedding,
  Rescaling: rescaling,
  Normalization: normalization,
  Dropout: identity, SpatialDropout1D: identity, SpatialDropout2D: identity, SpatialDropout3D: identity,
  GaussianNoise: identity, GaussianDropout: identity, AlphaDropout: identity, ActivityRegularization: identity,
};
