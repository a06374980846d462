/**
 * The op catalogue: the single place where an op's meaning lives. Ops have ONNX names and
 * ONNX semantics at the opset the graph imports (default domain ''/'ai.onnx'); each entry
 * declares its inputs, outputs and attributes (with the opset versions where they exist)
 * and a shape rule. Importers map format ops onto these entries, exporters map them out;
 * anything else is an opaque op (another domain, or a name not listed here).
 */
import type { Graph, Node } from '../graph.js';
import { opsetVersion } from '../graph.js';
import { MloptError } from '../../util/errors.js';
import { ACTIVATION_OPS } from './activation.js';
import { ATTENTION_OPS } from './attention.js';
import { type NodeInference, type NodeInputs, runRule } from './context.js';
import { CONTROL_OPS } from './control.js';
import { DETECTION_OPS } from './detection.js';
import { ELEMENTWISE_OPS } from './elementwise.js';
import { GENERATOR_OPS } from './generator.js';
import { INDEXING_OPS } from './indexing.js';
import { MATH_OPS } from './math.js';
import { NN_OPS } from './nn.js';
import { QUANT_OPS } from './quant.js';
import { REDUCE_OPS } from './reduce.js';
import { RESIZE_OPS } from './resize.js';
import { RNN_OPS } from './rnn.js';
import { SHAPE_OPS } from './shape.js';
import type { OpDef } from './types.js';
import { DEFAULT_OPSET } from './versions.js';

const CATALOGUE = new Map<string, OpDef>();
for (const def of [
  ...NN_OPS, ...ACTIVATION_OPS, ...ELEMENTWISE_OPS, ...MATH_OPS, ...REDUCE_OPS, ...SHAPE_OPS,
  ...INDEXING_OPS, ...RESIZE_OPS, ...GENERATOR_OPS, ...QUANT_OPS, ...CONTROL_OPS, ...RNN_OPS, ...DETECTION_OPS,
  ...ATTENTION_OPS,
]) {
  if (CATALOGUE.has(def.name)) throw new Error(`op ${def.name} is catalogued twice`);
  CATALOGUE.set(def.name, def);
}

/** The catalogue entry of an op of the default domain. */
export function getOp(name: string): OpDef | undefined {
  return CATALOGUE.get(name);
}

/** All catalogue entries, sorted by name. */
export function listOps(): OpDef[] {
  return [...CATALOGUE.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** True for the default domain ('' or 'ai.onnx'). */
export function isDefaultDomain(domain: string): boolean {
  return domain === '' || domain === 'ai.onnx';
}

/** A node whose op the catalogue knows (default domain and a listed name). */
export function isCatalogued(node: Pick<Node, 'op' | 'domain'>): boolean {
  return isDefaultDomain(node.domain) && CATALOGUE.has(node.op);
}

/** 'Conv' for the default domain, 'com.microsoft:FusedConv' otherwise (histogram / report key). */
export function opKey(node: Pick<Node, 'op' | 'domain'>): string {
  return isDefaultDomain(node.domain) ? node.op : `${node.domain}:${node.op}`;
}

/**
 * The default-domain opset a graph's catalogue ops follow. A graph that declares none gets
 * opset 1 when it came from ONNX (old models without opset_import imply opset 1) and
 * DEFAULT_OPSET otherwise.
 */
export function graphOpset(graph: Graph): number {
  return opsetVersion(graph) ?? (graph.metadata.sourceFormat === 'onnx' ? 1 : DEFAULT_OPSET);
}

/**
 * Output types of one catalogued node from what is known of its inputs. Throws
 * MloptError('UNKNOWN_OP') for an op the catalogue lacks and MloptError('SHAPE_MISMATCH')
 * when the inputs and attributes are inconsistent (e.g. shapes that do not broadcast).
 */
export function inferNode(node: Node, inputs: NodeInputs): NodeInference {
  const def = isDefaultDomain(node.domain) ? CATALOGUE.get(node.op) : undefined;
  if (!def) throw new MloptError('UNKNOWN_OP', `op ${opKey(node)} (node '${node.name}') is not in the op catalogue`);
  try {
    return runRule(node, def, inputs);
  } catch (err) {
    if (err instanceof MloptError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    throw new MloptError('SHAPE_MISMATCH', `${node.op} node '${node.name}': ${msg}`, undefined, { cause: err });
  }
}
