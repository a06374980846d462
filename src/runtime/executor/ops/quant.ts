/**
 * QuantizeLinear / DequantizeLinear (per tensor and per axis) and DynamicQuantizeLinear.
 * Quantized values travel as float32 tensors holding integers (exact for 8/16-bit types), so a
 * QDQ pair is a fake quantization. In training programs QuantizeLinear has a straight-through
 * gradient: dy / scale where round(x / scale) + zero_point falls within [qmin, qmax], zero
 * outside (DequantizeLinear then multiplies by the scale: the pair passes dy through in range).
 */
import type { DType } from '../../../ir/dtype.js';
import { dtypeFromOnnx } from '../../../ir/ops/dtype-codes.js';
import { axisOf, int } from '../kutil.js';
import type { CompileCtx, Kernel, OpTable, RunCtx, TfTensor, Val } from '../types.js';

const RANGES: Partial<Record<DType, [number, number]>> = {
  uint8: [0, 255], int8: [-128, 127], uint16: [0, 65535], int16: [-32768, 32767], int32: [-2147483648, 2147483647],
  uint4: [0, 15], int4: [-8, 7], uint2: [0, 3], int2: [-2, 1],
};

export function quantRange(dtype: DType): [number, number] | undefined {
  return RANGES[dtype];
}

/** scale / zero point shaped to broadcast against x of `rank` (per axis when they are 1-D of size > 1). */
function along(rt: RunCtx, v: TfTensor, rank: number, axis: number): TfTensor {
  if (v.rank !== 1 || v.shape[0] === 1 || rank <= 1) return v.rank === 1 && v.shape[0] === 1 ? rt.tf.reshape(v, []) : v;
  const shape = new Array<number>(rank).fill(1);
  shape[axisOf(axis, rank)] = v.shape[0]!;
  return rt.tf.reshape(v, shape);
}

function asFloat(rt: RunCtx, v: Val): TfTensor {
  const t = rt.t(v);
  return t.dtype === 'float32' ? t : rt.tf.cast(t, 'float32');
}

function quantize(c: CompileCtx): Kernel {
  const n = c.node;
  if (int(n, 'block_size', 0) > 0) c.fail('blocked quantization is not supported');
  const axis = int(n, 'axis', 1);
  const od = n.attrs.output_dtype?.type === 'int' ? dtypeFromOnnx(n.attrs.output_dtype.value) : undefined;
  const dtype: DType = c.inputs[2]?.dtype ?? od ?? c.outputs[0]?.dtype ?? 'uint8';
  const range = quantRange(dtype);
  if (!range) c.fail(`quantizing to ${dtype} is not supported`);
  const [qmin, qmax] = range;
  const train = c.mode === 'train';
  return {
    run: (ins, rt) => {
      const tf = rt.tf;
      const x = asFloat(rt, ins[0]!);
      const s = along(rt, asFloat(rt, ins[1]!), x.rank, axis);
      const z = ins[2] ? along(rt, asFloat(rt, ins[2]), x.rank, axis) : tf.scalar(0);
      if (!train) return [tf.clipByValue(tf.add(tf.round(tf.div(x, s)), z), qmin, qmax)];
      const ste = tf.customGrad((...args: unknown[]) => {
        const [xx, ss, zz] = args as [TfTensor, TfTensor, TfTensor];
        const save = args[3] as (t: TfTensor[]) => void;
        const v = tf.add(tf.round(tf.div(xx, ss)), zz);
        const mask = tf.cast(tf.logicalAnd(tf.greaterEqual(v, qmin), tf.lessEqual(v, qmax)), 'float32');
        save([mask, ss]);
        return {
          value: tf.clipByValue(v, qmin, qmax),
          gradFunc: (dy: TfTensor | TfTensor[], saved: TfTensor[]) => {
            const [m, sc] = saved as [TfTensor, TfTensor];
            return [tf.div(tf.mul(dy as TfTensor, m), sc), tf.zerosLike(sc), tf.zerosLike(zz)];
          },
        };
      });
      return [ste(x, s, z)];
    },
  };
}

function dequantize(c: CompileCtx): Kernel {
  const n = c.node;
  if (int(n, 'block_size', 0) > 0) c.fail('blocked quantization is not supported');
  const axis = int(n, 'axis', 1);
  return {
    run: (ins, rt) => {
      const tf = rt.tf;
      const x = asFloat(rt, ins[0]!);
      const s = along(rt, asFloat(rt, ins[1]!), x.rank, axis);
      const y = ins[2] ? tf.sub(x, along(rt, asFloat(rt, ins[2]), x.rank, axis)) : x;
      return [tf.mul(y, s)];
    },
  };
}

function dynamicQuantize(): Kernel {
  return {
    run: (ins, rt) => {
      const tf = rt.tf;
      const x = asFloat(rt, ins[0]!);
      const lo = tf.minimum(tf.min(x), 0);
      const hi = tf.maximum(tf.max(x), 0);
      const scale = tf.div(tf.sub(hi, lo), 255);
      const safe = tf.where(tf.equal(scale, 0), tf.onesLike(scale), scale);
      const zp = tf.clipByValue(tf.round(tf.neg(tf.div(lo, safe))), 0, 255);
      const y = tf.clipByValue(tf.add(tf.round(tf.div(x, safe)), zp), 0, 255);
      return [y, scale, zp];
    },
  };
}

export const QUANT_KERNELS: OpTable = {
  QuantizeLinear: quantize,
  DequantizeLinear: dequantize,
  DynamicQuantizeLinear: dynamicQuantize,
};
