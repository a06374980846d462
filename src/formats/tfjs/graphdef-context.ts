/**
 * What a TF op converter sees (TfContext), the shape of a table entry (TfOpSpec), and the
 * helpers several converters share.
 */
import type { DType } from '../../ir/dtype.js';
import type { Attr, Layout } from '../../ir/graph.js';
import type { Dim, Tensor } from '../../ir/tensor.js';
import type { TfAttrs, TfNodeDef } from './graphdef.js';

/** What a converter sees of the TF node it maps and of the IR graph being built. */
export interface TfContext {
  readonly node: TfNodeDef;
  readonly attrs: TfAttrs;
  /** 'TF op "Conv2D" (node "conv1/Conv2D")' */
  readonly where: string;
  /** number of data (non-control) inputs */
  readonly arity: number;
  /** IR value read for data input i */
  input(i: number): string;
  /** the constant behind data input i, if it is one */
  constant(i: number): Tensor | undefined;
  /** data input i as numbers; it must be constant */
  constInts(i: number, what: string): number[];
  /** IR value written for output k of the node */
  output(k?: number): string;
  emit(op: string, inputs: string[], outputs: string[], attrs?: Record<string, Attr>, layout?: Layout): void;
  /** a fresh value name */
  tmp(hint: string): string;
  init(hint: string, t: Tensor): string;
  i64(hint: string, values: number[], shape?: number[]): string;
  f32(hint: string, values: number[], shape?: number[]): string;
  /** data input i as int64 (constants converted, anything else through a Cast) */
  int64Input(i: number): string;
  /** the values of data input i when known at import: a constant, or shape arithmetic that shape
   *  inference evaluated (numbers, or a symbol such as 'batch' for a dynamic dimension) */
  valueOf(i: number): Dim[] | undefined;
  /** dtype / shape of an IR value, as far as shape inference over the graph so far can tell */
  typeOf(value: string): { dtype?: DType; shape?: Dim[] } | undefined;
  /** stop with UNSUPPORTED, naming the node */
  unsupported(why: string): never;
}

export type AttrSpec =
  /** a TF attribute, converted to an IR attribute (bool → int 0/1) */
  | { tf: string; as: 'int' | 'float' | 'string' | 'ints' | 'bool'; default?: number | string | boolean | number[] }
  /** a fixed IR attribute */
  | { value: Attr }
  /** a constant TF input read as an IR attribute */
  | { input: number; as: 'int' | 'ints' };

export interface TfOpSpec {
  /** the IR op of the common case */
  ir?: string;
  /** TF data inputs feeding the IR node, in IR order (default: all); `int64` converts shape-like inputs */
  inputs?: Array<number | { at: number; int64: true }>;
  attrs?: Record<string, AttrSpec>;
  /** where the semantics differ: the whole conversion */
  convert?: (ctx: TfContext) => void;
}

/** Clip(x, lo, hi) with float bounds. */
export function clip(ctx: TfContext, x: string, y: string, lo: number, hi: number): void {
  ctx.emit('Clip', [x, ctx.f32('clip_min', [lo], []), ctx.f32('clip_max', [hi], [])], [y]);
}

/** ONNX TensorProto data type code of a TF DataType name. */
export function onnxCode(ctx: TfContext, tfType: string | undefined): number {
  const codes: Record<string, number> = {
    DT_FLOAT: 1, DT_UINT8: 2, DT_INT8: 3, DT_UINT16: 4, DT_INT16: 5, DT_INT32: 6, DT_INT64: 7, DT_STRING: 8, DT_BOOL: 9,
    DT_HALF: 10, DT_DOUBLE: 11, DT_UINT32: 12, DT_UINT64: 13, DT_COMPLEX64: 14, DT_BFLOAT16: 16,
  };
  const c = codes[tfType ?? ''];
  if (!c) return ctx.unsupported(`a cast to ${tfType} is not supported`);
  return c;
}

