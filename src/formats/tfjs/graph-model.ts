/**
 * TF.js graph model (a TensorFlow GraphDef in JSON + weights) → IR.
 *
 * Const nodes become initializers (their values come from the weights manifest, or from the
 * node's `value` attr); Placeholders become graph inputs; every other node is mapped through
 * the TF_OPS table (graphdef-ops.ts). Value names are TF tensor names without ':0'
 * (`conv1/Relu`, `split:1`). Inputs and outputs follow the model's signature as TF.js reads it
 * (userDefinedMetadata.signature, else signature), else the Placeholders and the nodes nothing
 * reads. An op without a mapping stops the import with UNKNOWN_OP, naming the op and the node.
 */
import type { Attr, Graph, Layout, Node, Value } from '../../ir/graph.js';
import { createGraph } from '../../ir/graph.js';
import type { Tensor } from '../../ir/tensor.js';
import { pruneInitializers } from '../../ir/edit.js';
import { type GraphTypes, type ValueType, inferGraphTypes } from '../../ir/ops/index.js';
import { MloptError } from '../../util/errors.js';
import type { TfGraphDef, TfNodeDef, TfShapeProto } from './graphdef.js';
import { TfAttrs, convertTensor, irDims, parseInputRef, shapeDims, tensorFromProto, tfDType } from './graphdef.js';
import type { TfContext } from './graphdef-context.js';
import { TF_OPS, convertNode } from './graphdef-ops.js';

export const TFJS_IMPORT_OPSET = 17;

interface SignatureEntry {
  name?: string;
  dtype?: string;
  tensorShape?: TfShapeProto;
}
export interface TfSignature {
  inputs?: Record<string, SignatureEntry>;
  outputs?: Record<string, SignatureEntry>;
}

/** IR value name of a TF tensor reference ('x', 'x:0' → 'x'; 'x:2' → 'x:2'). */
function valueName(ref: string): string {
  const { node, index } = parseInputRef(ref);
  return index === 0 ? node : `${node}:${index}`;
}

export function importGraphModel(topology: TfGraphDef, weights: Map<string, Tensor>, signature: TfSignature | undefined, source: string): Graph {
  const tfNodes = topology.node ?? [];
  if (!Array.isArray(tfNodes)) throw new MloptError('CORRUPT_MODEL', `${source}: modelTopology.node is not a list`);
  const byName = new Map<string, TfNodeDef>();
  for (const n of tfNodes) {
    if (!n || typeof n.name !== 'string' || typeof n.op !== 'string') throw new MloptError('CORRUPT_MODEL', `${source}: a GraphDef node has no name or op`);
    byName.set(n.name, n);
  }
  const g = createGraph('tfjs_graph_model');
  const used = new Set<string>();
  for (const n of tfNodes) {
    used.add(n.name);
    for (const ref of n.input ?? []) used.add(valueName(ref));
  }
  const fresh = (base: string): string => {
    let name = base;
    for (let k = 1; used.has(name); k++) name = `${base}_${k}`;
    used.add(name);
    return name;
  };

  // consumers, for the default outputs (tfjs: nodes nothing reads, control edges included)
  const consumed = new Set<string>();
  for (const n of tfNodes) {
    for (const ref of n.input ?? []) {
      const { node } = parseInputRef(ref);
      if (!byName.has(node)) throw new MloptError('CORRUPT_MODEL', `${source}: node "${n.name}" reads "${ref}", which no node defines`);
      consumed.add(node);
    }
  }

  // signature entries ('x:0') → graph inputs / outputs
  const sigIn = Object.entries(signature?.inputs ?? {});
  const sigOut = Object.entries(signature?.outputs ?? {});
  const inputNodes = sigIn.length
    ? sigIn.map(([key, e]) => ({ node: parseInputRef(e.name ?? key).node, entry: e as SignatureEntry | undefined }))
    : tfNodes.filter((n) => n.op === 'Placeholder').map((n) => ({ node: n.name, entry: undefined }));
  const inputSet = new Set(inputNodes.map((x) => x.node));
  for (const { node, entry } of inputNodes) {
    const n = byName.get(node);
    if (!n) throw new MloptError('CORRUPT_MODEL', `${source}: the signature names input "${node}", which is not a node of the graph`);
    const a = new TfAttrs(n);
    const dims = shapeDims(a.shape('shape')) ?? shapeDims(entry?.tensorShape);
    const v: Value = { name: n.name, dtype: tfDType(a.type('dtype') ?? entry?.dtype, `${source}: input "${n.name}"`) };
    if (dims) v.shape = irDims(dims, n.name);
    g.inputs.push(v);
  }

  // nodes in dependency order (a GraphDef need not be sorted)
  const order: TfNodeDef[] = [];
  const state = new Map<string, 1 | 2>();
  for (const root of tfNodes) {
    if (state.has(root.name)) continue;
    const stack: Array<{ n: TfNodeDef; k: number }> = [{ n: root, k: 0 }];
    state.set(root.name, 1);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const refs = top.n.input ?? [];
      if (top.k < refs.length) {
        const dep = byName.get(parseInputRef(refs[top.k++]!).node)!;
        const s = state.get(dep.name);
        if (s === 1) throw new MloptError('UNSUPPORTED', `${source}: the graph has a cycle through node "${dep.name}" (TF control flow is not supported)`);
        if (!s) {
          state.set(dep.name, 1);
          stack.push({ n: dep, k: 0 });
        }
      } else {
        state.set(top.n.name, 2);
        order.push(top.n);
        stack.pop();
      }
    }
  }

  const nodes: Node[] = [];
  // shape inference over the graph built so far, run incrementally (each new stretch of nodes
  // sees the earlier results as its outer scope) so that asking stays cheap on large graphs
  let known: GraphTypes | undefined;
  let inferredUpTo = 0;
  const seenInit = new Set<string>();
  const typeOf = (value: string): ValueType | undefined => {
    const newInits = new Map([...g.initializers].filter(([k]) => !seenInit.has(k)));
    if (!known || inferredUpTo < nodes.length || newInits.size) {
      const part = inferGraphTypes({ ...g, inputs: known ? [] : g.inputs, outputs: [], valueInfo: [], initializers: newInits, nodes: nodes.slice(inferredUpTo) }, known ? { outer: known } : {});
      for (const k of newInits.keys()) seenInit.add(k);
      inferredUpTo = nodes.length;
      if (!known) known = part;
      else {
        for (const [k, v] of part.types) known.types.set(k, v);
        for (const [k, v] of part.constants) known.constants.set(k, v);
        for (const [k, v] of part.values) known.values.set(k, v);
      }
    }
    return known.types.get(value);
  };
  const init = (hint: string, t: Tensor): string => {
    const name = fresh(hint);
    g.initializers.set(name, t);
    return name;
  };

  for (const n of order) {
    const attrs = new TfAttrs(n);
    const where = `TF op "${n.op}" (node "${n.name}")`;
    if (n.op === 'Const') {
      const declared = attrs.type('dtype');
      let t = weights.get(n.name);
      if (!t) {
        const proto = attrs.tensor('value');
        if (!proto || (!proto.tensorContent && !proto.floatVal && !proto.intVal && !proto.int64Val && !proto.boolVal && !proto.doubleVal && !proto.stringVal && !proto.halfVal && (shapeDims(proto.tensorShape) ?? []).reduce((a, b) => a * b, 1) > 0)) {
          throw new MloptError('CORRUPT_MODEL', `${source}: constant "${n.name}" has no value (not in the weights manifest, nor in the node)`);
        }
        t = tensorFromProto(proto, `${source}: constant "${n.name}"`);
      }
      // TF.js stores int64 constants as int32: give them back their declared type
      if (declared) t = convertTensor(t, tfDType(declared, `${source}: constant "${n.name}"`));
      g.initializers.set(n.name, t);
      continue;
    }
    if (inputSet.has(n.name) || n.op === 'Placeholder') {
      if (!inputSet.has(n.name)) {
        const dims = shapeDims(attrs.shape('shape'));
        g.inputs.push({ name: n.name, dtype: tfDType(attrs.type('dtype'), `${source}: input "${n.name}"`), ...(dims ? { shape: irDims(dims, n.name) } : {}) });
      }
      continue;
    }
    const spec = TF_OPS[n.op];
    if (!spec) {
      throw new MloptError('UNKNOWN_OP', `${where} has no mlopt mapping; ${source} cannot be imported`, 'convert the model to ONNX with tf2onnx, or report the op so it can be mapped');
    }
    const data = (n.input ?? []).filter((r) => !r.startsWith('^'));
    const ctx: TfContext = {
      node: n,
      attrs,
      where,
      arity: data.length,
      input: (k) => {
        const r = data[k];
        if (r === undefined) throw new MloptError('CORRUPT_MODEL', `${source}: ${where} has no input ${k}`);
        return valueName(r);
      },
      constant: (k) => (data[k] === undefined ? undefined : g.initializers.get(valueName(data[k]!))),
      constInts: (k, what) => {
        const c = ctx.constant(k);
        if (!c) return ctx.unsupported(`its ${what} (input ${k}) must be a constant`);
        return Array.from(c.data as ArrayLike<number | bigint>, Number);
      },
      output: (k = 0) => (k === 0 ? n.name : `${n.name}:${k}`),
      emit: (op: string, inputs: string[], outputs: string[], a: Record<string, Attr> = {}, layout?: Layout) => {
        nodes.push({ name: fresh(`${n.name}/${op}`), op, domain: '', inputs, outputs, attrs: a, ...(layout ? { layout } : {}) });
      },
      tmp: (hint) => fresh(`${n.name}/${hint}`),
      init: (hint, t) => init(`${n.name}/${hint}`, t),
      i64: (hint, values, shape) => init(`${n.name}/${hint}`, { dtype: 'int64', shape: shape ?? [values.length], data: BigInt64Array.from(values.map((v) => BigInt(v))) }),
      f32: (hint, values, shape) => init(`${n.name}/${hint}`, { dtype: 'float32', shape: shape ?? [values.length], data: Float32Array.from(values) }),
      int64Input: (k) => {
        const c = ctx.constant(k);
        if (c) return c.dtype === 'int64' ? ctx.input(k) : init(`${ctx.input(k)}_i64`, convertTensor(c, 'int64'));
        const t = ctx.typeOf(ctx.input(k));
        if (t?.dtype === 'int64') return ctx.input(k);
        const y = fresh(`${ctx.input(k)}_i64`);
        nodes.push({ name: fresh(`${n.name}/Cast`), op: 'Cast', domain: '', inputs: [ctx.input(k)], outputs: [y], attrs: { to: { type: 'int', value: 7 } } });
        return y;
      },
      valueOf: (k) => {
        const c = ctx.constant(k);
        if (c) return Array.from(c.data as ArrayLike<number | bigint>, Number);
        typeOf(ctx.input(k));
        return known?.values.get(ctx.input(k));
      },
      typeOf,
      unsupported: (why) => {
        throw new MloptError('UNSUPPORTED', `${source}: ${where}: ${why}`);
      },
    };
    convertNode(spec, ctx);
  }
  g.nodes = nodes;

  // outputs
  const outRefs = sigOut.length
    ? sigOut.map(([key, e]) => ({ ref: e.name ?? key, key, dtype: e.dtype }))
    : tfNodes.filter((n) => !consumed.has(n.name) && n.op !== 'NoOp').map((n) => ({ ref: n.name, key: undefined, dtype: undefined }));
  const producedByNode = new Set(nodes.flatMap((x) => x.outputs));
  for (const o of outRefs) {
    let name = valueName(o.ref);
    if (!byName.has(parseInputRef(o.ref).node)) throw new MloptError('CORRUPT_MODEL', `${source}: the signature names output "${o.ref}", which is not a node of the graph`);
    if (!producedByNode.has(name)) {
      // a graph output must come out of a node
      const y = fresh(`${name}_output`);
      g.nodes.push({ name: fresh(`${name}/Identity`), op: 'Identity', domain: '', inputs: [name], outputs: [y], attrs: {} });
      name = y;
    }
    const v: Value = { name };
    if (o.dtype) v.dtype = tfDType(o.dtype, `${source}: output "${o.ref}"`);
    if (o.key && o.key !== o.ref) v.extra = { tfjs: { signatureKey: o.key } };
    g.outputs.push(v);
  }
  for (const v of g.inputs) {
    const key = sigIn.find(([, e]) => parseInputRef(e.name ?? '').node === v.name)?.[0];
    if (key && key !== `${v.name}:0` && key !== v.name) v.extra = { tfjs: { signatureKey: key } };
  }
  pruneInitializers(g);
  const types = inferGraphTypes(g).types;
  g.outputs = g.outputs.map((o) => {
    const t = types.get(o.name);
    return { ...o, ...(t?.dtype && !o.dtype ? { dtype: t.dtype } : {}), ...(t?.shape ? { shape: t.shape } : {}) };
  });
  return g;
}
