/** A synthetic ~100 MB ONNX model for I/O benchmarks: 5 × 20 MB MatMul weights plus 500 small Add nodes. */
import type { ModelProto, NodeProto, TensorProto } from '../src/formats/onnx/proto/index.js';

export function synthesize(): ModelProto {
  const initializer: TensorProto[] = [];
  const node: NodeProto[] = [];
  // 5 big layers: 1600 x 3125 float32 = 20 MB each.
  let prev = 'input';
  for (let l = 0; l < 5; l++) {
    const w = new Float32Array(1600 * 3125);
    for (let i = 0; i < w.length; i += 97) w[i] = Math.sin(i + l);
    initializer.push({ name: `w${l}`, dims: [1600, 3125], dataType: 1, rawData: new Uint8Array(w.buffer) });
    node.push({ name: `mm${l}`, opType: 'MatMul', input: [prev, `w${l}`], output: [`h${l}`] });
    prev = `h${l}`;
  }
  // Many small tensors / nodes so per-message overhead shows up too.
  for (let i = 0; i < 500; i++) {
    initializer.push({ name: `b${i}`, dims: [64], dataType: 1, floatData: new Float32Array(64).fill(i) });
    node.push({
      name: `add${i}`, opType: 'Add', input: [prev, `b${i}`], output: [`a${i}`],
      attribute: [{ name: 'axis', type: 2, i: -1 }, { name: 'ends', type: 7, ints: [0, 2 ** 63, -5] }],
    });
    prev = `a${i}`;
  }
  const vi = (name: string) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'N' }, { dimValue: 1600 }] } } } });
  return {
    irVersion: 10, producerName: 'mlopt-bench', producerVersion: '0.1.0', modelVersion: 1,
    opsetImport: [{ domain: '', version: 21 }],
    graph: { name: 'bench', node, initializer, input: [vi('input')], output: [vi(prev)] },
  };
}

