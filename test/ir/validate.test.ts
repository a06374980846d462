import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DType } from '../../src/ir/dtype.js';
import type { Attr, Graph, Node, Value } from '../../src/ir/graph.js';
import type { Dim, Tensor } from '../../src/ir/tensor.js';
import { assertValid, type IssueKind, validateGraph } from '../../src/ir/validate.js';
import { MloptError } from '../../src/util/errors.js';

let counter = 0;
function node(op: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}, name?: string): Node {
  return { name: name ?? `${op}_${counter++}`, op, domain: '', inputs, outputs, attrs };
}
const v = (name: string, shape?: Dim[], dtype: DType = 'float32'): Value => (shape ? { name, dtype, shape } : { name, dtype });
const zerosF = (...shape: number[]): Tensor => ({ dtype: 'float32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
const ints = (...value: number[]): Attr => ({ type: 'ints', value });

function graph(p: { inputs?: Value[]; outputs: Value[]; nodes: Node[]; init?: Record<string, Tensor>; valueInfo?: Value[]; opset?: number }): Graph {
  return {
    name: 'g', inputs: p.inputs ?? [v('x', ['N', 3, 8, 8])], outputs: p.outputs, nodes: p.nodes,
    valueInfo: p.valueInfo ?? [], initializers: new Map(Object.entries(p.init ?? {})),
    metadata: { opsets: [{ domain: '', version: p.opset ?? 17 }], props: {} },
  };
}
const kinds = (g: Graph): IssueKind[] => validateGraph(g).map((i) => i.kind);
const errorKinds = (g: Graph): IssueKind[] => validateGraph(g).filter((i) => i.severity === 'error').map((i) => i.kind);

function valid(): Graph {
  return graph({
    outputs: [v('y', ['N', 4, 8, 8])],
    init: { w: zerosF(4, 3, 3, 3), b: zerosF(4) },
    valueInfo: [v('c', ['N', 4, 8, 8])],
    nodes: [
      node('Conv', ['x', 'w', 'b'], ['c'], { pads: ints(1, 1, 1, 1) }),
      node('Clip', ['c', '', 'six'], ['y']),
    ],
  });
}

describe('validateGraph', () => {
  it('finds nothing wrong in a valid graph (omitted optional inputs included)', () => {
    const g = valid();
    g.initializers.set('six', { dtype: 'float32', shape: [], data: Float32Array.of(6) });
    assert.deepEqual(validateGraph(g), []);
    assert.doesNotThrow(() => assertValid(g));
  });

  it('dangling input', () => {
    const g = graph({ outputs: [v('y')], nodes: [node('Add', ['x', 'nowhere'], ['y'])] });
    const issues = validateGraph(g);
    assert.deepEqual(issues.map((i) => i.kind), ['dangling-input']);
    assert.equal(issues[0]?.value, 'nowhere');
    assert.match(issues[0]?.message ?? '', /nowhere/);
  });

  it('value produced twice, or produced over an input / initializer', () => {
    const twice = graph({ outputs: [v('y')], nodes: [node('Relu', ['x'], ['y']), node('Sigmoid', ['x'], ['y'])] });
    assert.deepEqual(kinds(twice), ['duplicate-producer']);
    const overInit = graph({ outputs: [v('w')], init: { w: zerosF(2) }, nodes: [node('Relu', ['x'], ['w'])] });
    assert.deepEqual(kinds(overInit), ['duplicate-producer']);
    const overInput = graph({ outputs: [v('x')], nodes: [node('Relu', ['x'], ['x'])] });
    assert.deepEqual(kinds(overInput), ['duplicate-producer']);
  });

  it('out-of-order use and cycles are reported distinctly', () => {
    const outOfOrder = graph({ outputs: [v('z')], nodes: [node('Relu', ['a'], ['z']), node('Relu', ['x'], ['a'])] });
    assert.deepEqual(kinds(outOfOrder), ['out-of-order']);
    const cycle = graph({
      outputs: [v('z')],
      nodes: [node('Add', ['x', 'b'], ['a'], {}, 'n1'), node('Relu', ['a'], ['b'], {}, 'n2'), node('Relu', ['a'], ['z'], {}, 'n3')],
    });
    const issues = validateGraph(cycle);
    assert.deepEqual(issues.map((i) => i.kind), ['cycle']);
    assert.match(issues[0]?.message ?? '', /'n1', 'n2'/);
    const self = graph({ outputs: [v('a')], nodes: [node('Add', ['x', 'a'], ['a'])] });
    assert.deepEqual(kinds(self), ['cycle']);
  });

  it('graph output not produced', () => {
    const g = graph({ outputs: [v('y'), v('ghost')], nodes: [node('Relu', ['x'], ['y'])] });
    assert.deepEqual(kinds(g), ['output-not-produced']);
    // an output may be a graph input or an initializer directly
    assert.deepEqual(kinds(graph({ outputs: [v('x')], nodes: [] })), []);
  });

  it('required inputs and input counts of catalogued ops', () => {
    assert.deepEqual(kinds(graph({ outputs: [v('y')], nodes: [node('Conv', ['x'], ['y'])] })), ['missing-input']);
    assert.deepEqual(kinds(graph({ outputs: [v('y')], nodes: [node('Conv', ['x', ''], ['y'])] })), ['missing-input']);
    assert.deepEqual(kinds(graph({ outputs: [v('y')], nodes: [node('Relu', ['x', 'x'], ['y'])] })), ['too-many-inputs']);
    // Squeeze's axes input exists from opset 13 only
    const sq = (opset: number): Graph => graph({ opset, outputs: [v('y')], init: { a: { dtype: 'int64', shape: [1], data: BigInt64Array.of(0n) } }, nodes: [node('Squeeze', ['x', 'a'], ['y'])] });
    assert.ok(errorKinds(sq(11)).includes('too-many-inputs'));
    assert.deepEqual(kinds(sq(13)).filter((k) => k !== 'shape-error'), []);
    assert.deepEqual(kinds(graph({ outputs: [v('y')], nodes: [node('Concat', [], ['y'], { axis: { type: 'int', value: 0 } })] })), ['missing-input']);
  });

  it('attribute types, required and unknown attributes', () => {
    const bad = graph({ outputs: [v('y')], init: { w: zerosF(4, 3, 3, 3) }, nodes: [node('Conv', ['x', 'w'], ['y'], { group: { type: 'float', value: 1 } })] });
    assert.ok(kinds(bad).includes('bad-attr-type'));
    const missing = graph({ outputs: [v('y')], nodes: [node('Concat', ['x', 'x'], ['y'])] });
    assert.ok(kinds(missing).includes('missing-attr'));
    const unknown = graph({ outputs: [v('y')], nodes: [node('Relu', ['x'], ['y'], { flavour: { type: 'string', value: 'mild' } })] });
    const issues = validateGraph(unknown);
    assert.deepEqual(issues.map((i) => [i.kind, i.severity]), [['unknown-attr', 'warning']]);
    assert.doesNotThrow(() => assertValid(unknown));
    // an int where a float is expected is accepted
    const intForFloat = graph({ outputs: [v('y')], nodes: [node('LeakyRelu', ['x'], ['y'], { alpha: { type: 'int', value: 0 } })] });
    assert.deepEqual(kinds(intForFloat), []);
  });

  it('op newer than the opset is a warning', () => {
    const g = graph({ opset: 13, outputs: [v('y')], nodes: [node('Gelu', ['x'], ['y'])] });
    assert.deepEqual(validateGraph(g).map((i) => [i.kind, i.severity]), [['op-not-in-opset', 'warning']]);
  });

  it('inferred vs declared dtype and shape', () => {
    const dtype = graph({ outputs: [v('y', undefined, 'int32')], nodes: [node('Relu', ['x'], ['y'])] });
    assert.deepEqual(kinds(dtype), ['dtype-mismatch']);
    const dims = graph({ outputs: [v('y')], valueInfo: [v('a', ['N', 3, 9, 8])], nodes: [node('Relu', ['x'], ['a']), node('Relu', ['a'], ['y'])] });
    assert.deepEqual(kinds(dims), ['shape-mismatch']);
    const rank = graph({ outputs: [v('y', ['N', 3, 64])], nodes: [node('Relu', ['x'], ['y'])] });
    assert.deepEqual(kinds(rank), ['shape-mismatch']);
    // symbols and unknown dims never conflict
    const sym = graph({ outputs: [v('y', ['B', '?', 8, 'W'])], nodes: [node('Relu', ['x'], ['y'])] });
    assert.deepEqual(kinds(sym), []);
  });

  it('shape rule failures', () => {
    const g = graph({ inputs: [v('a', [2, 3]), v('b', [4, 3])], outputs: [v('y')], nodes: [node('Add', ['a', 'b'], ['y'])] });
    const issues = validateGraph(g);
    assert.deepEqual(issues.map((i) => i.kind), ['shape-error']);
    assert.match(issues[0]?.message ?? '', /broadcast/);
  });

  it('subgraphs see the outer scope; their own problems carry a path', () => {
    const body = (nodes: Node[], out: string): Graph => ({
      name: 'b', inputs: [], outputs: [v(out)], valueInfo: [], initializers: new Map(), nodes, metadata: { opsets: [], props: {} },
    });
    const make = (thenNodes: Node[]): Graph => graph({
      inputs: [v('x', ['N', 4]), v('cond', [], 'bool')], outputs: [v('y')],
      nodes: [
        node('Relu', ['x'], ['r']),
        node('If', ['cond'], ['y'], {
          then_branch: { type: 'graph', value: body(thenNodes, 't') },
          else_branch: { type: 'graph', value: body([node('Identity', ['x'], ['e'])], 'e') },
        }, 'if1'),
      ],
    });
    assert.deepEqual(validateGraph(make([node('Sigmoid', ['r'], ['t'])])), []);
    const issues = validateGraph(make([node('Sigmoid', ['undefined_in_scope'], ['t'])]));
    assert.deepEqual(issues.map((i) => [i.kind, i.graph]), [['dangling-input', 'if1.then_branch']]);
  });

  it('assertValid throws INVALID_GRAPH naming the first error and the count', () => {
    const g = graph({ outputs: [v('y'), v('ghost')], nodes: [node('Add', ['x', 'nowhere'], ['y'])] });
    assert.throws(() => assertValid(g), (e: unknown) =>
      e instanceof MloptError && e.code === 'INVALID_GRAPH' && /nowhere/.test(e.message) && /2 errors/.test(e.message));
  });
});
