/**
 * Shared pieces of the wasm gradient kernels: types, convolution geometry, and JS helpers that
 * read and write tensors straight in the wasm heap.
 *
 * Why JS copies: the wasm backend's Slice / SplitV / Unpack / unit-stride StridedSlice first copy
 * the WHOLE input out of the heap (readSync) and then copy the part, and its C++ StridedSlice
 * costs ~90 ns per element; a JS loop over heap views moves ~1 element per ns.
 */
import type { backend_util, DataType, KernelConfig, KernelFunc, Tensor, TensorInfo, TypedArray } from '@tensorflow/tfjs-core';

export type Tf = typeof import('@tensorflow/tfjs-core');
export type Pair = [number, number];
export type PadAttr = 'valid' | 'same' | number | backend_util.ExplicitPadding;
export type Rounding = 'floor' | 'round' | 'ceil';
export type { KernelConfig, KernelFunc, Tensor, TensorInfo };
export type Tensor4D = import('@tensorflow/tfjs-core').Tensor4D;

/**
 * Builds one kernel function; `native` is the wasm backend's own kernel of that name, if any.
 * A wrapper of a native kernel returns undefined when there is none (yet) to wrap.
 */
export type KernelMaker = (tf: Tf, native: KernelConfig | undefined) => KernelFunc | undefined;

export interface ConvGeometry {
  n: number; h: number; w: number; cIn: number;
  kh: number; kw: number;
  oh: number; ow: number;
  sh: number; sw: number; dh: number; dw: number;
  /** padding before the first row / column (may exceed what the output reads) */
  top: number; left: number;
}

export function geometry(tf: Tf, xShape: number[], filterShape: number[], strides: number | Pair, dilations: number | Pair | undefined,
  pad: PadAttr, rounding: Rounding | undefined, depthwise: boolean): ConvGeometry {
  const info = tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number],
    strides, dilations ?? 1, pad, rounding, depthwise, 'channelsLast');
  return {
    n: info.batchSize, h: info.inHeight, w: info.inWidth, cIn: info.inChannels,
    kh: info.filterHeight, kw: info.filterWidth, oh: info.outHeight, ow: info.outWidth,
    sh: info.strideHeight, sw: info.strideWidth, dh: info.dilationHeight, dw: info.dilationWidth,
    top: info.padInfo.top, left: info.padInfo.left,
  };
}

/** Kernel inputs arrive as Tensors from the ops; wrap a bare TensorInfo (a composite kernel's call) without taking ownership. */
export function asTensor(tf: Tf, t: TensorInfo): Tensor {
  if ((t as Partial<Tensor>).rank !== undefined) return t as Tensor;
  const engine = tf.engine();
  engine.backend.incRef(t.dataId);
  return engine.makeTensorFromTensorInfo(t);
}

export const toNhwc = (tf: Tf, t: Tensor4D): Tensor4D => tf.transpose(t, [0, 2, 3, 1]);
export const toNchw = (tf: Tf, t: Tensor4D): Tensor4D => tf.transpose(t, [0, 3, 1, 2]);
export const nchwShapeToNhwc = (s: number[]): number[] => [s[0]!, s[2]!, s[3]!, s[1]!];
export const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

// ---------------------------------------------------------------------------------------------
// the wasm heap

/** The parts of the wasm backend a JS kernel uses to read and write tensors in the wasm heap. */
export interface WasmHeap {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): TypedArray;
}

export function wasmHeap(backend: unknown): WasmHeap {
  const b = backend as Partial<WasmHeap>;
  if (typeof b.makeOutput !== 'function' || typeof b.typedArrayFromHeap !== 'function') {
    throw new Error('mlopt wasm gradient kernels: the backend is not the tfjs wasm backend');
  }
  return b as WasmHeap;
}

/**
 * New float32 tensors written by JS in the wasm heap. `fill` gets views of the outputs and of the
 * (float32) inputs, all taken after the allocations: growing the heap detaches older views.
 */
export function jsTensors(tf: Tf, heap: WasmHeap, shapes: number[][], inputs: TensorInfo[], fill: (outs: Float32Array[], ins: Float32Array[]) => void): Tensor[] {
  for (const t of inputs) if (t.dtype !== 'float32') throw new Error(`mlopt wasm gradient kernels: expected float32, got ${t.dtype}`);
  const infos = shapes.map((s) => heap.makeOutput(s, 'float32'));
  const outs = infos.map((i) => heap.typedArrayFromHeap(i) as Float32Array);
  const ins = inputs.map((i) => heap.typedArrayFromHeap(i) as Float32Array);
  fill(outs, ins);
  const engine = tf.engine();
  return infos.map((i) => engine.makeTensorFromTensorInfo(i));
}

/** `count` equal contiguous blocks along axis 0, each of shape `blockShape`. */
export function rowBlocks(tf: Tf, heap: WasmHeap, t: TensorInfo, count: number, blockShape: number[]): Tensor[] {
  const len = size(blockShape);
  if (len * count !== size(t.shape)) throw new Error('rowBlocks: the blocks do not tile the tensor');
  return jsTensors(tf, heap, Array.from({ length: count }, () => blockShape), [t], (outs, [v]) => {
    outs.forEach((o, k) => o.set(v!.subarray(k * len, (k + 1) * len)));
  });
}

/**
 * Place an NHWC tensor on a zero grid: element (r, c) of x goes to (top + r·sh, left + c·sw) of an
 * [N, height, width, C] output; what falls outside is dropped (negative top / left crop). Covers
 * padding, cropping and the zero-upsampling of a strided convolution's output gradient.
 */
export function spread(tf: Tf, heap: WasmHeap, x: TensorInfo, sh: number, sw: number, top: number, left: number, height: number, width: number): Tensor4D {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const [out] = jsTensors(tf, heap, [[n, height, width, c]], [x], ([o], [v]) => {
    o!.fill(0);
    const c0 = Math.max(0, Math.ceil(-left / sw));
    const c1 = Math.min(w, Math.floor((width - 1 - left) / sw) + 1);
    if (c1 <= c0) return;
    for (let b = 0; b < n; b++) {
      for (let r = 0; r < h; r++) {
        const y = top + r * sh;
        if (y < 0 || y >= height) continue;
        const src = ((b * h + r) * w) * c;
        const dst = ((b * height + y) * width + left) * c;
        if (sw === 1) o!.set(v!.subarray(src + c0 * c, src + c1 * c), dst + c0 * c);
        else for (let q = c0; q < c1; q++) o!.set(v!.subarray(src + q * c, src + (q + 1) * c), dst + q * sw * c);
      }
    }
  });
  return out as Tensor4D;
}

/**
 * im2col rows of an NHWC input for a convolution, per batch group: group k gets
 * P[(i,j,ci), (n,oh,ow)] = x[n, oh·sh+i·dh−top, ow·sw+j·dw−left, ci] (0 in the padding) for the
 * samples n of that group, as a [KH·KW·Ci, ng·OH·OW] tensor.
 */
export function im2colRows(tf: Tf, heap: WasmHeap, x: TensorInfo, g: ConvGeometry, groups: number): Tensor[] {
  const ng = g.n / groups;
  const mg = ng * g.oh * g.ow;
  const rows = g.kh * g.kw * g.cIn;
  return jsTensors(tf, heap, Array.from({ length: groups }, () => [rows, mg]), [x], (outs, [xv]) => {
    const { h, w, cIn: c, oh, ow, sh, sw, dh, dw, top, left } = g;
    for (let k = 0; k < groups; k++) {
      const out = outs[k]!;
      for (let i = 0; i < g.kh; i++) {
        for (let j = 0; j < g.kw; j++) {
          const woff = j * dw - left;
          const q0 = Math.min(ow, Math.max(0, Math.ceil(-woff / sw)));
          const q1 = Math.max(q0, Math.min(ow, Math.floor((w - 1 - woff) / sw) + 1));
          for (let ci = 0; ci < c; ci++) {
            let o = ((i * g.kw + j) * c + ci) * mg;
            for (let b = k * ng; b < (k + 1) * ng; b++) {
              for (let r = 0; r < oh; r++, o += ow) {
                const y = r * sh + i * dh - top;
                if (y < 0 || y >= h) {
                  out.fill(0, o, o + ow);
                  continue;
                }
                const base = ((b * h + y) * w + woff) * c + ci;
                for (let q = 0; q < q0; q++) out[o + q] = 0;
                for (let q = q0; q < q1; q++) out[o + q] = xv![base + q * sw * c]!;
                for (let q = q1; q < ow; q++) out[o + q] = 0;
              }
            }
          }
        }
      }
    }
  });
}

/**
 * Most products one float32 accumulation of a filter gradient sums: beyond, the batch is split
 * into groups whose partial gradients are added (the error of a float32 sum grows with its
 * length: 64×14×14 products in one go are ~6e-5 off, in groups of ≤ 2048 ~5e-6).
 */
export const ACCUM_CHUNK = 2048;

/** The number of batch groups: the smallest divisor of n whose groups hold ≤ ACCUM_CHUNK products. */
export function batchGroups(n: number, perSample: number): number {
  for (let count = 1; count < n; count++) if (n % count === 0 && (n / count) * perSample <= ACCUM_CHUNK) return count;
  return n;
}

/** Sum of per-group results (the tensor itself when there is one group). */
export function addAll(tf: Tf, parts: Tensor[]): Tensor {
  return parts.length === 1 ? parts[0]! : tf.addN(parts);
}

/**
 * XNNPACK caches the packed weights of a matmul under the id of its right operand, whatever the
 * 2-D shape it was viewed as: a tensor used as right operand under two different shapes gets the
 * first packing (a native tfjs-wasm bug). Record the view each right operand was given here.
 */
const weightViews = new WeakMap<object, string>();

/** True when `t` may be a matmul's right operand viewed as [k, n] (then it is recorded so). */
export function claimWeightView(t: TensorInfo, k: number, n: number): boolean {
  const view = `${k}x${n}`;
  const prev = weightViews.get(t.dataId);
  if (prev !== undefined && prev !== view) return false;
  weightViews.set(t.dataId, view);
  return true;
}
