/**
 * Gradient kernels for the TensorFlow.js wasm backend (the kernels: runtime/wasm-grads/).
 *
 * tfjs 4.22's wasm backend lacks three gradient kernels — Conv2DBackpropFilter,
 * DepthwiseConv2dNativeBackpropFilter, DepthwiseConv2dNativeBackpropInput — so a CNN cannot be
 * trained on it, and several kernels that training leans on are slow or wrong there:
 * Conv2DBackpropInput is a scalar loop, MaxPoolGrad drops the gradient of windows without a
 * positive value, matmuls with a transposed operand (both matmul gradients) and reductions over
 * the batch axes (bias and batch-norm gradients) skip XNNPACK. `registerWasmGradKernels(tf)`
 * registers wasm kernels for all of these, built from what the backend is fast at (XNNPACK
 * convolutions, matmuls and poolings, C++ pads and transposes) and JS loops over the wasm heap
 * for data movement (the backend's own slices copy their whole input first):
 *
 *   Conv2DBackpropFilter                  conv.ts       swapped-roles convolution, or im2col · dy
 *   Conv2DBackpropInput                   conv.ts       stride-1 conv of dy with the rotated filter
 *   DepthwiseConv2dNativeBackpropFilter   depthwise.ts  per tap: samples · dy, summed
 *   DepthwiseConv2dNativeBackpropInput    depthwise.ts  depthwise conv with the rotated filter
 *   MaxPoolGrad                           pool.ts       first maximum, as the cpu backend
 *   BatchMatMul                           matmul.ts     explicit transposes, then XNNPACK
 *   Sum, Mean (leading axes)              reduce.ts     chunked XNNPACK average poolings
 *
 * Gradients equal the cpu backend's to ~1e-5 relative (long float32 sums are chunked: see
 * ACCUM_CHUNK and REDUCE_CHUNK). Strides, dilations, SAME / VALID / explicit padding, NHWC and
 * NCHW, any batch. The kernels run public tfjs ops inside tf.tidy (the wasm backend is the active
 * one while its kernel runs) and return a Tensor, which the engine takes as the kernel's output:
 * nothing else survives a call.
 */
import { type KernelConfig, type KernelMaker, type Tf } from './wasm-grads/common.js';
import { conv2DBackpropFilter, conv2DBackpropInput } from './wasm-grads/conv.js';
import { depthwiseBackpropFilter, depthwiseBackpropInput } from './wasm-grads/depthwise.js';
import { batchMatMul } from './wasm-grads/matmul.js';
import { maxPoolGrad } from './wasm-grads/pool.js';
import { leadingReduce } from './wasm-grads/reduce.js';

const BACKEND = 'wasm';
/** Marks the kernel functions registered here (idempotence). */
const OURS = Symbol.for('mlopt.wasmGradKernel');

const KERNELS: Array<[string, KernelMaker]> = [
  ['Conv2DBackpropFilter', conv2DBackpropFilter],
  ['Conv2DBackpropInput', conv2DBackpropInput],
  ['DepthwiseConv2dNativeBackpropFilter', depthwiseBackpropFilter],
  ['DepthwiseConv2dNativeBackpropInput', depthwiseBackpropInput],
  ['MaxPoolGrad', maxPoolGrad],
  ['BatchMatMul', batchMatMul],
  ['Sum', leadingReduce('sum')],
  ['Mean', leadingReduce('mean')],
];

/** The wasm backend's own kernels replaced here (undefined: it had none), by kernel name. */
const natives = new Map<string, KernelConfig | undefined>();

const isOurs = (k: KernelConfig | undefined) => !!k && !!(k.kernelFunc as unknown as Record<symbol, unknown>)[OURS];

/**
 * Register fast wasm kernels for the gradient kernels the wasm backend lacks, and replace the
 * native ones that are slow or wrong for training. Idempotent; call it after loading
 * @tensorflow/tfjs-backend-wasm (the backend need not be initialised yet).
 */
export function registerWasmGradKernels(tf: Tf): void {
  for (const [kernelName, make] of KERNELS) {
    const existing = tf.getKernel(kernelName, BACKEND);
    if (isOurs(existing)) continue;
    const native = natives.has(kernelName) ? natives.get(kernelName) : existing;
    const kernelFunc = make(tf, native);
    if (!kernelFunc) continue; // a wrapper with nothing to wrap: the wasm backend is not loaded yet
    natives.set(kernelName, native);
    if (existing) tf.unregisterKernel(kernelName, BACKEND);
    Object.defineProperty(kernelFunc, OURS, { value: true });
    // a wrapped native kernel keeps its setup (the backend runs it when it initialises)
    tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc, setupFunc: native?.setupFunc, disposeFunc: native?.disposeFunc });
  }
}

/** Put the wasm backend's own kernels back (benchmarks compare against them); those it lacks are removed. */
export function unregisterWasmGradKernels(tf: Tf): void {
  for (const [kernelName] of KERNELS) {
    if (!isOurs(tf.getKernel(kernelName, BACKEND))) continue;
    tf.unregisterKernel(kernelName, BACKEND);
    const native = natives.get(kernelName);
    if (native) tf.registerKernel(native);
  }
}
