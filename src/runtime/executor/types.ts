/**
 * Types shared by the IR executor's op table, program builder and trainer.
 *
 * A value at run time is either a tfjs tensor (data) or a HostTensor: a small array of numbers
 * kept in JS (shapes, axes, indices, scalar attributes), so that Shape → Gather → Concat →
 * Reshape chains cost no device round trip. Which values live on the host is decided when the
 * program is compiled; a kernel asks the run context for the form it needs.
 */
import type { DType } from '../../ir/dtype.js';
import type { Node } from '../../ir/graph.js';
import type { Dim, Tensor } from '../../ir/tensor.js';

export type Tf = typeof import('@tensorflow/tfjs-core');
export type TfTensor = import('@tensorflow/tfjs-core').Tensor;
export type TfVariable = import('@tensorflow/tfjs-core').Variable;
export type TfDType = 'float32' | 'int32' | 'bool';

/** A small tensor held in JS numbers (row-major). `dtype` is the IR dtype it stands for. */
export class HostTensor {
  constructor(
    readonly dtype: DType,
    readonly shape: number[],
    readonly data: number[],
  ) {}
  get size(): number {
    return this.data.length;
  }
}

export type Val = TfTensor | HostTensor;

export function isHost(v: Val | undefined): v is HostTensor {
  return v instanceof HostTensor;
}

/** What compile time knows of one node input. */
export interface InputInfo {
  name: string;
  dtype?: DType;
  shape?: Dim[];
  /** the value when it is a constant (initializer / folded) */
  constant?: Tensor;
  /** not computed from a feed (constants, weights, and what is derived from them only) */
  static: boolean;
}

export interface CompileCtx {
  node: Node;
  opset: number;
  /** 'train' programs run BN on batch statistics, Dropout, and fake quantization with STE */
  mode: 'infer' | 'train';
  inputs: Array<InputInfo | undefined>;
  outputs: Array<{ dtype?: DType; shape?: Dim[] } | undefined>;
  /** throw MloptError('UNSUPPORTED') naming the node */
  fail(why: string): never;
  /** values of a constant integer (or float) input, as numbers; undefined when not constant */
  constNumbers(i: number): number[] | undefined;
}

/** The run-time services a kernel gets. */
export interface RunCtx {
  tf: Tf;
  training: boolean;
  /** a device tensor for `v` (host values converted; float dtypes become float32, ints int32) */
  t(v: Val): TfTensor;
  /** a host tensor for `v` (device values read back synchronously: only small shape tensors) */
  h(v: Val): HostTensor;
  /** integer values of `v` (host or device) */
  ints(v: Val): number[];
  /** a fresh seed for random ops (Dropout), from the executor's seeded generator */
  seed(): number;
  /** training: the new value of a state initializer (BatchNormalization moving mean / variance) */
  setState(initializer: string, value: TfTensor): void;
}

/** A derived value computed from some node inputs (e.g. a conv filter in tfjs layout, a BN folded
 *  into conv weights). Compiled as a step of its own, so that it is computed once per weight
 *  version when its inputs are weights, and taped when training. */
export interface Derived {
  from: number[];
  fn(vals: Array<Val | undefined>, rt: RunCtx): Val;
}

export interface Kernel {
  derive?: Derived[];
  /** node inputs → node outputs. `derived` holds the derive[] results, in order. */
  run(ins: Array<Val | undefined>, rt: RunCtx, derived: Val[]): Array<Val | undefined>;
  /** the same op on host values (used when every input is a host value); undefined = not
   *  applicable to these inputs, use `run` */
  host?(ins: Array<HostTensor | undefined>): HostTensor[] | undefined;
}

/** Builds the kernel of one node at compile time (attributes parsed once). */
export type OpCompiler = (c: CompileCtx) => Kernel;

export type OpTable = Record<string, OpCompiler>;
