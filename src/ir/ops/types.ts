/**
 * Types of the op catalogue: what an op entry declares (inputs, outputs, attributes, per opset
 * version) and what its shape rule receives (`InferContext`).
 *
 * Versioning: catalogue ops have ONNX names and ONNX semantics at the opset the graph imports.
 * Where ONNX moved an operand between versions (e.g. Squeeze `axes`: attribute before 13,
 * input from 13) the entry lists both forms, each with `since` (first opset, inclusive) and
 * `before` (first opset where it no longer exists, exclusive). `inputsAt` / `attrsAt` in
 * catalogue.ts give the form valid at one opset.
 */
import type { DType } from '../dtype.js';
import type { Dim, Tensor } from '../tensor.js';
import type { Attr, Graph, Layout, Node } from '../graph.js';

/** What shape inference knows about a value: dtype and shape (undefined = unknown / unknown rank). */
export interface ValueType {
  dtype?: DType;
  shape?: Dim[];
}

export type OpCategory =
  | 'nn' // conv, pools, normalization
  | 'activation' // elementwise nonlinearities, softmax family
  | 'elementwise' // arithmetic, comparison, logic, math functions
  | 'math' // matmul, gemm, einsum
  | 'reduce' // reductions, argmax, topk
  | 'shape' // reshape, transpose, concat, slice, gather, pad, resize...
  | 'generator' // constants, ranges, random
  | 'quant' // quantize / dequantize and quantized kernels
  | 'control'; // If, Loop, Scan

/** Attribute kinds: the `type` tags of `Attr` (graph.ts). */
export type AttrType = Attr['type'];

/** Something that exists only in some opset versions: [since, before). */
export interface Versioned {
  /** first opset version where this exists (default: always). */
  since?: number;
  /** first opset version where this no longer exists (default: never removed). */
  before?: number;
}

export interface IOSpec extends Versioned {
  name: string;
  /** may be omitted ('' or absent) */
  optional?: boolean;
  /** optional only from this opset on (required before). */
  optionalSince?: number;
  /** the last input/output may repeat (at least once unless optional). */
  variadic?: boolean;
}

export type AttrDefault = number | string | number[] | string[];

export interface AttrSpec extends Versioned {
  type: AttrType;
  /** the value ONNX uses when the attribute is absent. */
  default?: AttrDefault;
  required?: boolean;
}

export interface OpDef {
  /** ONNX operator name (default domain). */
  name: string;
  category: OpCategory;
  /** first opset version that has the op (validation warns below it). */
  since?: number;
  /** inputs by position; entries whose version range excludes the opset are skipped. */
  inputs: IOSpec[];
  outputs: IOSpec[];
  /** attributes; an array lists version variants of one attribute (e.g. a default that changed). */
  attrs: Record<string, AttrSpec | AttrSpec[]>;
  /** true when `node.layout` (NCHW / NHWC) changes which axes are channels / spatial. */
  layoutSensitive?: boolean;
  /** output types, one per node output (missing entries = unknown). May throw via ctx.fail. */
  infer(ctx: InferContext): ValueType[];
  /**
   * Optional "data" rule for small integer tensors (shapes, indices): the values of output 0,
   * flattened, as dims (numbers or symbols). Lets Shape → Gather → Concat → Reshape chains keep
   * a symbolic batch. Return undefined when unknown.
   */
  value?(ctx: InferContext): Dim[] | undefined;
  doc?: string;
}

/** What a shape rule sees of one node. Inputs are addressed by position. */
export interface InferContext {
  readonly node: Node;
  readonly def: OpDef;
  /** opset version of the default domain the graph imports. */
  readonly opset: number;
  /** `node.layout`, 'NCHW' when absent. */
  readonly layout: Layout;
  /** number of input slots the node lists ('' placeholders included). */
  readonly inputCount: number;
  readonly outputCount: number;
  /** true when input i is given (present and not ''). */
  has(i: number): boolean;
  /** input type; {} when absent or unknown. */
  type(i: number): ValueType;
  dtype(i: number): DType | undefined;
  shape(i: number): Dim[] | undefined;
  rank(i: number): number | undefined;
  /** value of input i when it is an initializer or a Constant output. */
  constant(i: number): Tensor | undefined;
  /** numeric values of a constant input (int64 converted to numbers). */
  constNumbers(i: number): number[] | undefined;
  /** values of a small integer input: constant, or propagated through shape arithmetic (may hold symbols). */
  dims(i: number): Dim[] | undefined;
  /** attribute getters: the node's value, else `dflt`, else the catalogue default for the opset. */
  int(name: string, dflt: number): number;
  int(name: string): number | undefined;
  float(name: string, dflt: number): number;
  float(name: string): number | undefined;
  string(name: string, dflt: string): string;
  string(name: string): string | undefined;
  ints(name: string): number[] | undefined;
  floats(name: string): number[] | undefined;
  tensor(name: string): Tensor | undefined;
  graph(name: string): Graph | undefined;
  hasAttr(name: string): boolean;
  /** throw a SHAPE_MISMATCH MloptError naming the node. */
  fail(message: string): never;
}
