/**
 * What tfjs-layers (4.22) can load: a layers model whose config names a class tfjs-layers does not
 * register ("Unknown layer: Normalization" at load time), or a layer option it cannot run (a GRU
 * with reset_after, a grouped Conv2D, causal Conv1D padding...), must be refused before anything
 * is written. The class list is tfjs-layers' serialization registry restricted to Layer
 * subclasses; test/formats/tfjs/export.test.ts checks it against the installed tfjs-layers.
 */

type Json = Record<string, unknown>;

/** Every Layer class tfjs-layers 4.22 registers for deserialization. */
export const TFJS_LAYER_CLASSES: ReadonlySet<string> = new Set([
  'Activation', 'Add', 'AlphaDropout', 'Average', 'AveragePooling1D', 'AveragePooling2D', 'AveragePooling3D', 'BatchNormalization',
  'Bidirectional', 'CategoryEncoding', 'CenterCrop', 'Concatenate', 'Conv1D', 'Conv2D', 'Conv2DTranspose', 'Conv3D', 'Conv3DTranspose',
  'ConvLSTM2D', 'ConvLSTM2DCell', 'Cropping2D', 'Dense', 'DepthwiseConv2D', 'Dot', 'Dropout', 'ELU', 'Embedding', 'Flatten', 'Functional',
  'GRU', 'GRUCell', 'GaussianDropout', 'GaussianNoise', 'GlobalAveragePooling1D', 'GlobalAveragePooling2D', 'GlobalMaxPooling1D',
  'GlobalMaxPooling2D', 'InputLayer', 'LSTM', 'LSTMCell', 'LayerNormalization', 'LeakyReLU', 'Masking', 'MaxPooling1D', 'MaxPooling2D',
  'MaxPooling3D', 'Maximum', 'Minimum', 'Model', 'Multiply', 'PReLU', 'Permute', 'RNN', 'RandomWidth', 'ReLU', 'RepeatVector', 'Rescaling',
  'Reshape', 'Resizing', 'SeparableConv2D', 'Sequential', 'SimpleRNN', 'SimpleRNNCell', 'Softmax', 'SpatialDropout1D', 'StackedRNNCells',
  'ThresholdedReLU', 'TimeDistributed', 'UpSampling2D', 'ZeroPadding2D',
]);

/** Activation names tfjs-layers resolves (a Keras name, snake_case, as tfjs camel-cases it). */
export const TFJS_ACTIVATIONS: ReadonlySet<string> = new Set([
  'elu', 'gelu', 'hard_sigmoid', 'linear', 'log_softmax', 'mish', 'relu', 'relu6', 'selu', 'sigmoid', 'softmax', 'softplus', 'softsign', 'swish', 'tanh',
]);

export interface LayersProblem {
  layer: string;
  className: string;
  why: string;
}

const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);
const CONV_CLASSES = new Set(['Conv1D', 'Conv2D', 'Conv3D', 'Conv2DTranspose', 'Conv3DTranspose', 'SeparableConv2D']);

/** Why tfjs-layers cannot load or run one layer's config (undefined: it can, as far as known). */
function layerProblem(className: string, cfg: Json, keras3: boolean): string | undefined {
  if (!TFJS_LAYER_CLASSES.has(className)) return `TF.js layers models have no ${className} layer`;
  const is = (k: string, v: unknown): boolean => cfg[k] !== undefined && cfg[k] !== null && cfg[k] !== v;
  if ((className === 'GRU' || className === 'GRUCell') && cfg.reset_after === true) return 'a GRU with reset_after=true (the Keras 2 default), which TF.js layers models cannot run';
  if (CONV_CLASSES.has(className) && is('groups', 1)) return `a grouped convolution (groups=${String(cfg.groups)}), which TF.js layers models cannot run`;
  if (className === 'Conv1D' && cfg.padding === 'causal') return 'causal padding, which the TF.js Conv1D layer does not implement';
  if (/Transpose$/.test(className) && is('output_padding', undefined)) return `output_padding ${JSON.stringify(cfg.output_padding)}, which the TF.js layer ignores`;
  if (className === 'ELU' && is('alpha', 1)) return `alpha=${String(cfg.alpha)}, which the TF.js ELU layer does not support (only 1)`;
  if (className === 'ReLU' && (is('negative_slope', 0) || is('threshold', 0))) return 'a negative_slope or threshold, which the TF.js ReLU layer does not support';
  if ((className === 'UpSampling2D' || className === 'Resizing') && typeof cfg.interpolation === 'string' && !['nearest', 'bilinear'].includes(cfg.interpolation)) {
    return `${cfg.interpolation} interpolation (TF.js has nearest and bilinear)`;
  }
  if (className === 'Resizing' && cfg.crop_to_aspect_ratio === true) return 'crop_to_aspect_ratio, which the TF.js Resizing layer does not support';
  if (className === 'LayerNormalization' && cfg.rms_scaling === true) return 'rms_scaling, which the TF.js LayerNormalization layer does not support';
  if (/^Global.*Pooling/.test(className) && cfg.keepdims === true) return 'keepdims=true, which TF.js global pooling layers do not support';
  for (const key of ['activation', 'recurrent_activation']) {
    const a = cfg[key];
    if (a === undefined || a === null) continue;
    if (typeof a !== 'string') return `a serialized ${key} (${JSON.stringify(a).slice(0, 40)}), which TF.js layers models cannot load`;
    if (!TFJS_ACTIVATIONS.has(a)) return `the ${a} ${key.replace('_', ' ')}, which TF.js layers models do not have`;
    // Keras 3's hard_sigmoid is clip(x/6 + 0.5); tfjs-layers' is Keras 2's, clip(0.2x + 0.5)
    if (keras3 && a === 'hard_sigmoid') return `the Keras 3 hard_sigmoid ${key.replace('_', ' ')} (x/6 + 0.5), which TF.js layers models compute as Keras 2's (0.2x + 0.5)`;
  }
  return undefined;
}

/**
 * Every layer of a (tfjs-layers style, see keras-config.ts) model config that tfjs-layers cannot
 * load or run, nested models, RNN cells and wrapped layers included, in config order. `keras3`:
 * the config came from Keras 3 (some names mean another function there).
 */
export function layersModelProblems(modelConfig: Json, opts: { keras3?: boolean } = {}): LayersProblem[] {
  const out: LayersProblem[] = [];
  const visit = (l: unknown): void => {
    if (!l || typeof l !== 'object' || Array.isArray(l)) return;
    const layer = l as Json;
    const className = String(layer.class_name);
    const cfg = (layer.config ?? {}) as Json;
    const name = String(cfg.name ?? layer.name ?? className);
    if (MODEL_CLASSES.has(className)) {
      for (const inner of (Array.isArray(cfg.layers) ? cfg.layers : []) as unknown[]) visit(inner);
      return;
    }
    const why = layerProblem(className, cfg, opts.keras3 ?? false);
    if (why) out.push({ layer: name, className, why });
    // RNN cells and wrapped layers are layers of their own
    for (const key of ['cell', 'layer', 'backward_layer']) {
      const inner = cfg[key];
      if (Array.isArray(inner)) inner.forEach(visit);
      else if (inner && typeof inner === 'object') visit(inner);
    }
    if (Array.isArray(cfg.cells)) cfg.cells.forEach(visit);
  };
  visit(modelConfig);
  return out;
}

/** One line naming the first problem (and how many more there are). */
export function describeProblems(problems: LayersProblem[]): string {
  const [p, ...rest] = problems;
  if (!p) return '';
  const more = rest.length ? ` (and ${rest.length} more: ${rest.slice(0, 3).map((r) => `"${r.layer}" (${r.className})`).join(', ')}${rest.length > 3 ? ', ...' : ''})` : '';
  return `Keras layer "${p.layer}" (${p.className}) cannot be written as a TF.js layers model: ${p.why}${more}`;
}
