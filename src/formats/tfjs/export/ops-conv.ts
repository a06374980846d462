/**
 * TF.js graph-model handlers for convolutions. Conv → Conv2D / DepthwiseConv2dNative, fused with
 * bias and activation as tensorflowjs_converter writes them (_FusedConv2D,
 * FusedDepthwiseConv2dNative); a grouped Conv (1 < group < channels), which TF.js has no op for,
 * → Split + one Conv2D per group + ConcatV2; 1-D convolutions as 2-D ones on [N, 1, W, C].
 * ConvTranspose → Conv2DBackpropInput, which takes the output shape explicitly (output_padding is
 * a larger output shape). Inputs are channels-last (the layout pass ran first); filters move from
 * ONNX order to TF's (OIHW → HWIO, [M,1,kh,kw] → [kh,kw,C,M/C], [I,O,kh,kw] → [kh,kw,O,I]).
 */
import type { Node } from '../../../ir/graph.js';
import { attrInt, attrInts, attrString } from '../../../ir/graph.js';
import type { Tensor } from '../../../ir/tensor.js';
import type { EmitContext, Handler } from './context.js';
import { A, type TfAttr } from './graphdef.js';
import { type Padding, T, biasOf, drop1d, fusedAttrs, lift1d, pad2d, padding, permuted } from './nn-common.js';

const Conv: Handler = (n, c) => {
  const [xv, wv] = n.inputs as [string, string];
  const ws = c.staticShape(wv);
  if (!ws || (ws.length !== 4 && ws.length !== 3)) c.fail(n, `only 1-D and 2-D convolutions with a known filter shape are supported (filter shape [${c.shape(wv)?.join(',') ?? '?'}])`);
  const oneD = ws!.length === 3;
  const [m, cg] = ws as [number, number];
  const kernel = ws!.slice(2);
  const [kh, kw] = oneD ? [1, kernel[0]!] : (kernel as [number, number]);
  const group = attrInt(n, 'group', 1);
  const cin = (c.shape(xv)?.[ws!.length - 1] as number | undefined) ?? cg * group;
  const strides = attrInts(n, 'strides') ?? kernel.map(() => 1);
  const dil = attrInts(n, 'dilations') ?? kernel.map(() => 1);
  const pad = pad2d(padding(n, c, kernel, strides, dil), oneD);
  const [s2, d2] = oneD ? [[1, strides[0]!], [1, dil[0]!]] : [strides, dil];
  const out = c.outName(n);
  const depthwise = group !== 1 && group === cin && cg === 1;
  // OIHW → HWIO, [M,1,kh,kw] → [kh,kw,1,M] (→ [kh,kw,C,M/C]); 1-D: OIW → WIO → [1,W,I,O]
  const perm = oneD ? [2, 1, 0] : [2, 3, 1, 0];
  const tfShape = depthwise ? [kh, kw, cin, m / cin] : [kh, kw, cg, m];
  if (group !== 1 && !depthwise) {
    groupedConv(n, c, { group, m, cg, perm, filterShape: [kh!, kw!, cg, m / group], strides: s2, dilations: d2, pad, oneD });
    return;
  }
  const filter = c.constant(wv)
    ? c.weight(wv, depthwise ? 'hwcm' : 'hwio', (t) => permuted(t, perm, tfShape))
    : c.op('Reshape', `${wv}/${depthwise ? 'hwcm' : 'hwio'}`, [c.op('Transpose', `${wv}/t`, [c.ref(wv), c.i32(`${wv}/perm`, perm)], { T }), c.i32(`${wv}/shape`, tfShape)], { T });
  const f = c.fused(n);
  let bias = biasOf(c, n, 2, m);
  if (!bias && n.inputs[2]) c.fail(n, 'the bias must have one value per output channel');
  if (!bias && f) bias = c.f32(`${n.name}/zero_bias`, new Array<number>(m).fill(0));
  const attrs: Record<string, TfAttr> = {
    T,
    strides: A.ints([1, s2[0]!, s2[1]!, 1]),
    padding: A.s(pad.padding),
    data_format: A.s('NHWC'),
    dilations: A.ints([1, d2[0]!, d2[1]!, 1]),
    explicit_paddings: A.ints(pad.padding === 'EXPLICIT' ? [0, 0, ...pad.pads!, 0, 0] : []),
  };
  if (!depthwise) attrs.use_cudnn_on_gpu = A.b(true);
  const x = oneD ? lift1d(c, n, c.ref(xv)) : c.ref(xv);
  const hint = oneD ? `${out}/2d` : out;
  let y: string;
  if (bias) y = c.op(depthwise ? 'FusedDepthwiseConv2dNative' : '_FusedConv2D', hint, [x, filter, bias], { ...attrs, ...fusedAttrs(c, n, 1) });
  else y = c.op(depthwise ? 'DepthwiseConv2dNative' : 'Conv2D', hint, [x, filter], attrs);
  c.finish(n, oneD ? drop1d(c, y, out) : y, !!bias);
};

/**
 * A grouped convolution (1 < group < channels). TF.js has no grouped Conv2D: the channels-last
 * input is split into `group` slices, each convolved with its block of filters (and bias, with
 * the fused activation: both act per output channel), and the results concatenated.
 */
function groupedConv(n: Node, c: EmitContext, p: {
  group: number; m: number; cg: number; perm: number[]; filterShape: number[]; strides: number[]; dilations: number[]; pad: Padding; oneD: boolean;
}): void {
  const [xv, wv, bv] = n.inputs as [string, string, string | undefined];
  const { group, m, cg } = p;
  if (m % group !== 0) c.fail(n, `${m} filters cannot be split into ${group} groups`);
  if (!c.constant(wv)) c.fail(n, 'a grouped convolution needs a constant filter');
  const cin = c.shape(xv)?.[c.rank(xv)! - 1];
  if (typeof cin === 'number' && cin !== cg * group) c.fail(n, `${cin} input channels do not make ${group} groups of ${cg}`);
  const mg = m / group;
  const biasT = bv ? c.constant(bv) : undefined;
  if (bv && (!biasT || biasT.data.length !== m)) c.fail(n, 'a grouped convolution needs a constant bias with one value per output channel');
  const f = c.fused(n);
  const out = c.outName(n);
  const attrs: Record<string, TfAttr> = {
    T,
    strides: A.ints([1, p.strides[0]!, p.strides[1]!, 1]),
    padding: A.s(p.pad.padding),
    data_format: A.s('NHWC'),
    dilations: A.ints([1, p.dilations[0]!, p.dilations[1]!, 1]),
    explicit_paddings: A.ints(p.pad.padding === 'EXPLICIT' ? [0, 0, ...p.pad.pads!, 0, 0] : []),
    use_cudnn_on_gpu: A.b(true),
  };
  const x = p.oneD ? lift1d(c, n, c.ref(xv)) : c.ref(xv);
  const axis = c.i32(`${n.name}/channel_axis`, [3], []);
  const split = c.op('Split', `${n.name}/groups`, [axis, x], { T, num_split: A.i(group) });
  const ys: string[] = [];
  for (let i = 0; i < group; i++) {
    const tag = `g${i + 1}of${group}`;
    // ONNX filters [M, C/group, kh, kw]: group i owns filters i·M/group ... (i+1)·M/group − 1
    const filter = c.weight(wv, `hwio_${tag}`, (t) => {
      const per = t.data.length / m;
      const block: Tensor = { dtype: t.dtype, shape: [mg, ...t.shape.slice(1)], data: t.data.slice(i * mg * per, (i + 1) * mg * per) };
      return permuted(block, p.perm, p.filterShape);
    });
    const xi = i === 0 ? split : `${split}:${i}`;
    const hint = `${n.name}/${tag}`;
    if (bv || f) {
      const bias = bv
        ? c.weight(bv, tag, (b) => ({ dtype: b.dtype, shape: [mg], data: b.data.slice(i * mg, (i + 1) * mg) }))
        : c.f32(`${n.name}/zero_bias`, new Array<number>(mg).fill(0));
      ys.push(c.op('_FusedConv2D', hint, [xi, filter, bias], { ...attrs, ...fusedAttrs(c, n, 1) }));
    } else ys.push(c.op('Conv2D', hint, [xi, filter], attrs));
  }
  const y = c.op('ConcatV2', p.oneD ? `${out}/2d` : out, [...ys, c.i32(`${n.name}/concat_axis`, [3], [])], { N: A.i(group), T, Tidx: A.type('int32') });
  c.finish(n, p.oneD ? drop1d(c, y, out) : y, !!(bv || f));
}

const ConvTranspose: Handler = (n, c) => {
  const [xv, wv] = n.inputs as [string, string];
  const w = c.constant(wv);
  if (!w || w.shape.length !== 4) c.fail(n, 'only 2-D transposed convolutions with a constant filter are supported');
  if (attrInt(n, 'group', 1) !== 1) c.fail(n, 'grouped transposed convolution has no TF.js op');
  if ((attrInts(n, 'dilations') ?? [1, 1]).some((d) => d !== 1)) c.fail(n, 'dilated transposed convolution (TF.js ignores dilations)');
  const [, cout, kh, kw] = w!.shape as number[];
  const strides = attrInts(n, 'strides') ?? [1, 1];
  const outShape = c.shape(n.outputs[0]!);
  if (!outShape || outShape.slice(1).some((d) => typeof d !== 'number')) c.fail(n, 'the output shape must be static (but the batch)');
  const inShape = c.shape(xv)!;
  const hw = [outShape![1] as number, outShape![2] as number];
  // ONNX: out = s·(in − 1) + op + k − pb − pe; find the pads (begin, end) the output implies
  const auto = attrString(n, 'auto_pad', 'NOTSET');
  const pads = attrInts(n, 'pads') ?? [0, 0, 0, 0];
  const k = [kh!, kw!];
  const total = [0, 1].map((i) => strides[i]! * ((inShape[i + 1] as number) - 1) + k[i]! - hw[i]!);
  const begin = [0, 1].map((i) => (auto === 'SAME_UPPER' ? Math.floor(total[i]! / 2) : auto === 'SAME_LOWER' ? Math.ceil(total[i]! / 2) : auto === 'VALID' ? 0 : pads[i]!));
  // output_padding beyond the end padding (end < 0) adds rows / columns no input reaches: TF's op
  // takes the output shape explicitly, so the larger shape with no end padding computes exactly
  // that (valid as long as the extra is less than the stride, as ONNX requires)
  const end = [0, 1].map((i) => Math.max(0, total[i]! - begin[i]!));
  if (begin.some((b) => b < 0)) c.fail(n, 'negative padding at the start');
  if ([0, 1].some((i) => begin[i]! - total[i]! >= strides[i]!)) c.fail(n, 'output_padding must be smaller than the stride');
  const filter = c.weight(wv, 'hwoi', (t) => permuted(t, [2, 3, 1, 0])); // [I,O,kh,kw] → [kh,kw,O,I]
  const explicit = [0, 0, begin[0]!, end[0]!, begin[1]!, end[1]!, 0, 0];
  const batch = outShape![0];
  let os: string;
  if (typeof batch === 'number') os = c.i32(`${n.name}/output_shape`, [batch, hw[0]!, hw[1]!, cout!]);
  else {
    const shp = c.op('Shape', `${n.name}/input_shape`, [c.ref(xv)], { T, out_type: A.type('int32') });
    const b = c.op('StridedSlice', `${n.name}/batch`, [shp, c.i32(`${n.name}/b0`, [0]), c.i32(`${n.name}/b1`, [1]), c.i32(`${n.name}/b2`, [1])], {
      T: A.type('int32'), Index: A.type('int32'), begin_mask: A.i(0), end_mask: A.i(0), ellipsis_mask: A.i(0), new_axis_mask: A.i(0), shrink_axis_mask: A.i(0),
    });
    os = c.op('ConcatV2', `${n.name}/output_shape`, [b, c.i32(`${n.name}/hwc`, [hw[0]!, hw[1]!, cout!]), c.i32(`${n.name}/axis`, [0], [])], { N: A.i(2), T: A.type('int32'), Tidx: A.type('int32') });
  }
  const zero = explicit.every((p) => p === 0);
  let y = c.op('Conv2DBackpropInput', zero && !n.inputs[2] ? c.outName(n) : `${n.name}/deconv`, [os, filter, c.ref(xv)], {
    T, strides: A.ints([1, strides[0]!, strides[1]!, 1]), padding: A.s(zero ? 'VALID' : 'EXPLICIT'), data_format: A.s('NHWC'),
    dilations: A.ints([1, 1, 1, 1]), explicit_paddings: A.ints(zero ? [] : explicit), use_cudnn_on_gpu: A.b(true),
  });
  if (n.inputs[2]) y = c.op('BiasAdd', c.outName(n), [y, biasOf(c, n, 2, cout!) ?? c.fail(n, 'the bias must have one value per output channel')], { T, data_format: A.s('NHWC') });
  c.finish(n, y);
};

export const CONV_HANDLERS: Record<string, Handler> = { Conv, ConvTranspose };
