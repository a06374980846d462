/** The executor's op table: IR op (or `mlopt.exec:` internal op) → kernel compiler. */
import type { Node } from '../../../ir/graph.js';
import type { OpCompiler, OpTable } from '../types.js';
import { CONV_KERNELS } from './conv.js';
import { ELEMENTWISE_KERNELS } from './elementwise.js';
import { INDEX_KERNELS } from './indexing.js';
import { MATH_KERNELS } from './math.js';
import { NORM_KERNELS } from './norm.js';
import { QUANT_KERNELS } from './quant.js';
import { REDUCE_KERNELS } from './reduce.js';
import { RESIZE_KERNELS } from './resize.js';
import { RNN_KERNELS } from './rnn.js';
import { SHAPE_KERNELS } from './shape.js';

export const EXEC_DOMAIN = 'mlopt.exec';

const KERNELS: OpTable = {
  ...ELEMENTWISE_KERNELS, ...CONV_KERNELS, ...NORM_KERNELS, ...MATH_KERNELS, ...SHAPE_KERNELS, ...INDEX_KERNELS,
  ...REDUCE_KERNELS, ...QUANT_KERNELS, ...RESIZE_KERNELS, ...RNN_KERNELS,
};

export function kernelKey(n: Pick<Node, 'op' | 'domain'>): string {
  return n.domain === '' || n.domain === 'ai.onnx' ? n.op : `${n.domain}:${n.op}`;
}

export function kernelFor(n: Pick<Node, 'op' | 'domain'>): OpCompiler | undefined {
  return KERNELS[kernelKey(n)];
}

/** The IR ops the executor runs, sorted (for messages and docs). */
export function supportedOps(): string[] {
  return Object.keys(KERNELS).filter((k) => !k.includes(':')).sort();
}
