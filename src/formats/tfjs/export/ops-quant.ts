/**
 * Quantized (QDQ) graphs in a TF.js graph model. TF.js computes in float32 only, so:
 * - a DequantizeLinear of constant integer weights is a constant (context.ts), stored as exact
 *   uint8 / uint16 codes in the weights manifest when one (min, scale) reproduces every value
 *   (per-tensor int8 weights always; exact-quant.ts), else as float32;
 * - a QuantizeLinear → DequantizeLinear pair on activations is written as the fake-quant it
 *   computes, exactly: q = clip(round(x / s) + zp, lo, hi) (round half to even, as both ONNX and
 *   TF.js round), then (q − zp) · s. The int8 codes travel as float32 values in between.
 */
import type { DType } from '../../../ir/dtype.js';
import type { Node } from '../../../ir/graph.js';
import { toFloat32, toNumbers } from '../../../ir/tensor.js';
import type { EmitContext, Handler } from './context.js';
import { A } from './graphdef.js';

const T = A.type('float32');

const RANGE: Partial<Record<DType, [number, number]>> = {
  int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535], int32: [-(2 ** 31), 2 ** 31 - 1],
};

/** per-tensor scale and zero point (constant), or a failure */
function params(n: Node, c: EmitContext): { scale: number; zp: number } {
  const s = c.constant(n.inputs[1] ?? '');
  const z = n.inputs[2] ? c.constant(n.inputs[2]) : undefined;
  if (!s || (n.inputs[2] && !z)) c.fail(n, 'scale and zero point must be constants');
  const sv = toFloat32(s!);
  if (sv.length !== 1) c.fail(n, 'per-axis quantization of activations');
  return { scale: sv[0]!, zp: z ? toNumbers(z)[0]! : 0 };
}

const QuantizeLinear: Handler = (n, c) => {
  const out = n.outputs[0]!;
  const { scale, zp } = params(n, c);
  const to = c.dtype(out) ?? (n.inputs[2] ? c.dtype(n.inputs[2]) : 'uint8') ?? 'uint8';
  const [lo, hi] = RANGE[to] ?? c.fail(n, `quantization to ${to}`);
  let y = c.op('RealDiv', `${out}/scaled`, [c.ref(n.inputs[0]!), c.f32(`${out}/scale`, scale)], { T });
  y = c.op('Round', `${out}/rounded`, [y], { T });
  if (zp !== 0) y = c.op('AddV2', `${out}/shifted`, [y, c.f32(`${out}/zero_point`, zp)], { T });
  c.bind(out, c.op('ClipByValue', out, [y, c.f32(`${out}/lo`, lo), c.f32(`${out}/hi`, hi)], { T }));
};

const DequantizeLinear: Handler = (n, c) => {
  const out = n.outputs[0]!;
  const src = n.inputs[0]!;
  const p = c.producerOf(src);
  if (!p || p.op !== 'QuantizeLinear') c.fail(n, 'a dequantized value that does not come from a QuantizeLinear or a constant');
  const { scale, zp } = params(n, c);
  let y = c.ref(src);
  if (zp !== 0) y = c.op('Sub', `${out}/centered`, [y, c.f32(`${out}/zero_point`, zp)], { T });
  c.bind(out, c.op('Mul', out, [y, c.f32(`${out}/scale`, scale)], { T }));
};

export const QUANT_HANDLERS: Record<string, Handler> = { QuantizeLinear, DequantizeLinear };
