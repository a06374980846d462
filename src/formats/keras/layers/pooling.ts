/**
 * Pooling layers, 1-D to 3-D: Max/AveragePooling, GlobalMax/GlobalAveragePooling.
 * TF's 'same' average pooling divides by the number of real (not padded) elements:
 * count_include_pad = 0.
 */
import { type LayerCall, type LayerHandler, int, ints, str, tuple } from '../context.js';

const pool = (op: 'MaxPool' | 'AveragePool', n: number): LayerHandler => ({
  apply(c: LayerCall) {
    const size = tuple(c.config.pool_size, n, 2);
    const strides = c.config.strides === null || c.config.strides === undefined ? size : tuple(c.config.strides, n, 1);
    const padding = c.get<string>('padding', 'valid');
    if (padding !== 'valid' && padding !== 'same') c.fail(`padding "${padding}" is not supported`);
    const y = c.out();
    c.b.node(op, [c.x], [y], {
      kernel_shape: ints(size), strides: ints(strides), auto_pad: str(padding === 'same' ? 'SAME_UPPER' : 'VALID'),
      ...(op === 'AveragePool' ? { count_include_pad: int(0) } : {}),
    }, 'NHWC');
    return y;
  },
});

const global = (op: 'ReduceMean' | 'ReduceMax', n: number): LayerHandler => ({
  apply(c: LayerCall) {
    const y = c.out();
    c.b.node(op, [c.x], [y], { axes: ints(Array.from({ length: n }, (_, i) => i + 1)), keepdims: int(c.config.keepdims === true ? 1 : 0) });
    return y;
  },
});

export const POOLING_LAYERS: Record<string, LayerHandler> = {
  MaxPooling1D: pool('MaxPool', 1), MaxPooling2D: pool('MaxPool', 2), MaxPooling3D: pool('MaxPool', 3),
  AveragePooling1D: pool('AveragePool', 1), AveragePooling2D: pool('AveragePool', 2), AveragePooling3D: pool('AveragePool', 3),
  GlobalMaxPooling1D: global('ReduceMax', 1), GlobalMaxPooling2D: global('ReduceMax', 2), GlobalMaxPooling3D: global('ReduceMax', 3),
  GlobalAveragePooling1D: global('ReduceMean', 1), GlobalAveragePooling2D: global('ReduceMean', 2), GlobalAveragePooling3D: global('ReduceMean', 3),
};
// Keras 2.0 / tfjs aliases
POOLING_LAYERS.MaxPool1D = POOLING_LAYERS.MaxPooling1D!;
POOLING_LAYERS.MaxPool2D = POOLING_LAYERS.MaxPooling2D!;
POOLING_LAYERS.AvgPool1D = POOLING_LAYERS.AveragePooling1D!;
POOLING_LAYERS.AvgPool2D = POOLING_LAYERS.AveragePooling2D!;
POOLING_LAYERS.GlobalAvgPool2D = POOLING_LAYERS.GlobalAveragePooling2D!;
POOLING_LAYERS.GlobalMaxPool2D = POOLING_LAYERS.GlobalMaxPooling2D!;
