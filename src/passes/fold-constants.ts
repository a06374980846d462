/**
 * Constant folding: values that do not depend on the graph's inputs become initializers.
 *
 * 1. Shape arithmetic on static shapes (Shape → Gather → Concat → ...): the values the op
 *    catalogue's shape rules already propagate (small integer tensors) are written as int64
 *    initializers.
 * 2. Every node whose inputs are all constants (transitively) is evaluated once in
 *    onnxruntime — the same kernels that define the ONNX semantics — and replaced by its result.
 *
 * Exporters to formats without those ops (TFLite) need it; it is exact.
 */
import type { Graph, Node, Value } from '../ir/graph.js';
import { copyGraph, pruneInitializers } from '../ir/edit.js';
import { inferGraphTypes } from '../ir/ops/index.js';
import type { Tensor } from '../ir/tensor.js';
import { exportOnnxBytes } from '../formats/onnx/export.js';

/** ops whose output changes from run to run, or that must not be evaluated ahead of time: a
 *  DequantizeLinear of int8 weights IS the quantized model's representation (folding it would turn
 *  the weights back into float32), so Q/DQ nodes stay, as onnxruntime's own folding keeps them */
const NOT_FOLDED = new Set([
  'RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Multinomial', 'Bernoulli', 'Dropout',
  'QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear',
]);

export interface FoldResult {
  graph: Graph;
  /** nodes replaced by initializers */
  folded: number;
}

export async function foldConstants(g0: Graph): Promise<FoldResult> {
  const g = copyGraph(g0);
  const outputs = new Set(g.outputs.map((o) => o.name));
  let folded = 0;

  // 1. propagated shape values
  const t = inferGraphTypes(g);
  const keep: Node[] = [];
  for (const n of g.nodes) {
    const out = n.outputs[0];
    const v = out && n.outputs.length === 1 && n.domain === '' && !outputs.has(out) ? t.values.get(out) : undefined;
    const dtype = out ? t.types.get(out)?.dtype : undefined;
    if (v && v.every((d) => typeof d === 'number') && (dtype === 'int64' || dtype === 'int32') && n.op !== 'Constant') {
      const shape = t.types.get(out!)?.shape;
      const dims = shape && shape.every((d) => typeof d === 'number') ? (shape as number[]) : [v.length];
      const data = dtype === 'int64' ? BigInt64Array.from((v as number[]).map(BigInt)) : Int32Array.from(v as number[]);
      g.initializers.set(out!, { dtype, shape: dims, data });
      folded++;
      continue;
    }
    keep.push(n);
  }
  g.nodes = keep;

  // 2. nodes whose inputs are all constants, evaluated in onnxruntime
  const constant = new Set<string>(g.initializers.keys());
  // (an initializer also listed among the inputs — every initializer, in IR < 4 files — counts as
  // a constant, as feedInputs() has it everywhere else in mlopt)
  const foldable: Node[] = [];
  for (const n of g.nodes) {
    const hasGraph = Object.values(n.attrs).some((a) => a.type === 'graph' || a.type === 'graphs');
    if (n.domain !== '' || hasGraph || NOT_FOLDED.has(n.op) || n.inputs.length === 0 && n.op !== 'Constant') continue;
    if (!n.inputs.every((x) => x === '' || constant.has(x))) continue;
    foldable.push(n);
    for (const o of n.outputs) if (o) constant.add(o);
  }
  if (foldable.length) {
    const wanted = foldable.flatMap((n) => n.outputs).filter(Boolean);
    const types = inferGraphTypes(g).types;
    const sub: Graph = {
      ...g,
      inputs: [],
      outputs: wanted.map((name): Value => ({ name, ...(types.get(name)?.dtype ? { dtype: types.get(name)!.dtype! } : {}) })),
      valueInfo: [],
      nodes: foldable,
      // a current IR version: IR < 4 would want every initializer listed as an input
      metadata: { ...g.metadata, formatVersion: undefined },
    };
    const { createOnnxRunner } = await import('../runtime/onnxruntime.js');
    const runner = await createOnnxRunner(exportOnnxBytes(sub), [], sub.outputs);
    let results: Map<string, Tensor>;
    try {
      results = await runner.run(new Map());
    } finally {
      await runner.dispose();
    }
    const done = new Set(foldable);
    g.nodes = g.nodes.filter((n) => !done.has(n));
    for (const [name, tensor] of results) g.initializers.set(name, tensor);
    folded += foldable.length;
  }
  // constants that are graph outputs stay produced by nothing but the initializer: fine in ONNX
  pruneInitializers(g);
  const produced = new Set(g.nodes.flatMap((n) => n.outputs));
  g.valueInfo = g.valueInfo.filter((v) => produced.has(v.name));
  return { graph: g, folded };
}
