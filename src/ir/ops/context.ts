/** Builds the `InferContext` a shape rule receives, and runs one node's rule. */
import { isIntDType } from '../dtype.js';
import type { Graph, Node } from '../graph.js';
import { type Dim, type Tensor, elementCount, isNumericData, toNumbers } from '../tensor.js';
import { MloptError } from '../../util/errors.js';
import type { AttrSpec, InferContext, OpDef, ValueType } from './types.js';
import { attrsAt } from './versions.js';

/** What is known about a node's inputs, by input position. */
export interface NodeInputs {
  /** opset version of the default domain. */
  opset: number;
  /** known input types (undefined = unknown or absent). */
  types: readonly (ValueType | undefined)[];
  /** values of inputs that are initializers or Constant outputs. */
  constants?: readonly (Tensor | undefined)[];
  /** propagated values of small integer inputs (see OpDef.value). */
  values?: readonly (Dim[] | undefined)[];
}

export interface NodeInference {
  outputs: ValueType[];
  /** values of output 0 when the op has a value rule and they are known. */
  value?: Dim[];
}

/** Constants larger than this are not turned into dims. */
const MAX_VALUE_ELEMENTS = 1024;

export function makeInferContext(node: Node, def: OpDef, inputs: NodeInputs): InferContext {
  let specs: Record<string, AttrSpec> | undefined;
  const spec = (name: string): AttrSpec | undefined => (specs ??= attrsAt(def, inputs.opset))[name];
  const fail = (message: string): never => {
    throw new MloptError('SHAPE_MISMATCH', `${node.op} node '${node.name}': ${message}`);
  };
  const wrong = (name: string, expected: string): never =>
    fail(`attribute ${name} is ${node.attrs[name]?.type}, expected ${expected}`);
  const has = (i: number): boolean => i >= 0 && i < node.inputs.length && node.inputs[i] !== '';
  const type = (i: number): ValueType => (has(i) ? inputs.types[i] ?? {} : {});
  const constant = (i: number): Tensor | undefined => (has(i) ? inputs.constants?.[i] : undefined);
  const constNumbers = (i: number): number[] | undefined => {
    const t = constant(i);
    return t && isNumericData(t.data) ? toNumbers(t) : undefined;
  };
  const dflt = <T>(name: string, given: T | undefined, check: (v: unknown) => v is T): T | undefined => {
    if (given !== undefined) return given;
    const d = spec(name)?.default;
    return check(d) ? d : undefined;
  };
  const isNum = (v: unknown): v is number => typeof v === 'number';
  const isStr = (v: unknown): v is string => typeof v === 'string';
  const isNums = (v: unknown): v is number[] => Array.isArray(v) && v.every(isNum);

  function int(name: string, d: number): number;
  function int(name: string): number | undefined;
  function int(name: string, d?: number): number | undefined {
    const a = node.attrs[name];
    if (a) return a.type === 'int' ? a.value : wrong(name, 'int');
    return dflt(name, d, isNum);
  }
  function float(name: string, d: number): number;
  function float(name: string): number | undefined;
  function float(name: string, d?: number): number | undefined {
    const a = node.attrs[name];
    if (a) return a.type === 'float' || a.type === 'int' ? a.value : wrong(name, 'float');
    return dflt(name, d, isNum);
  }
  function string(name: string, d: string): string;
  function string(name: string): string | undefined;
  function string(name: string, d?: string): string | undefined {
    const a = node.attrs[name];
    if (a) return a.type === 'string' ? a.value : wrong(name, 'string');
    return dflt(name, d, isStr);
  }

  return {
    node,
    def,
    opset: inputs.opset,
    layout: node.layout ?? 'NCHW',
    inputCount: node.inputs.length,
    outputCount: node.outputs.length,
    has,
    type,
    dtype: (i) => type(i).dtype,
    shape: (i) => type(i).shape,
    rank: (i) => type(i).shape?.length,
    constant,
    constNumbers,
    dims: (i) => {
      const t = constant(i);
      if (t) {
        if (!isIntDType(t.dtype) || t.shape.length > 1 || elementCount(t.shape) > MAX_VALUE_ELEMENTS) return undefined;
        return toNumbers(t);
      }
      return has(i) ? inputs.values?.[i] : undefined;
    },
    int,
    float,
    string,
    ints: (name) => {
      const a = node.attrs[name];
      if (a) return a.type === 'ints' ? a.value : wrong(name, 'ints');
      return dflt(name, undefined, isNums);
    },
    floats: (name) => {
      const a = node.attrs[name];
      if (a) return a.type === 'floats' || a.type === 'ints' ? a.value : wrong(name, 'floats');
      return dflt(name, undefined, isNums);
    },
    tensor: (name) => {
      const a = node.attrs[name];
      if (!a) return undefined;
      return a.type === 'tensor' ? a.value : wrong(name, 'tensor');
    },
    graph: (name): Graph | undefined => {
      const a = node.attrs[name];
      if (!a) return undefined;
      return a.type === 'graph' ? a.value : wrong(name, 'graph');
    },
    hasAttr: (name) => name in node.attrs,
    fail,
  };
}

/** Run `def`'s rules for `node`. Throws MloptError('SHAPE_MISMATCH') when the node is inconsistent. */
export function runRule(node: Node, def: OpDef, inputs: NodeInputs): NodeInference {
  const ctx = makeInferContext(node, def, inputs);
  const outputs = def.infer(ctx);
  const value = def.value?.(ctx);
  return value ? { outputs, value } : { outputs };
}
