import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  decodeMessage, decodeModel, decodeTensor, encodeMessage, encodeModel, encodeTensor, OnnxProtoError,
  type ModelProto, type OnnxMessageName, type TensorProto, type TypeProto,
} from '../../../src/formats/onnx/proto/index.js';

const CORPUS = '/work/shared/corpus/onnx';
const TESTDATA = '/usr/share/libonnx-testdata/data';
const INT64_MAX = 2 ** 63; // what 9223372036854775807 becomes as a double

function* walk(dir: string): Generator<string> {
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) yield* walk(p);
    else yield p;
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

function hex(s: string): Uint8Array {
  return Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!.map((h) => parseInt(h, 16)));
}

/** The message type a test_data_set value file holds, from the matching graph input/output type. */
function valueType(t: TypeProto | undefined): OnnxMessageName {
  if (t?.sequenceType) return 'SequenceProto';
  if (t?.mapType) return 'MapProto';
  if (t?.optionalType) return 'OptionalProto';
  if (t?.sparseTensorType) return 'SparseTensorProto';
  return 'TensorProto';
}

/** Path of the first `$unknown` in a decoded tree (well-formed ONNX files must have none). */
function findUnknown(v: unknown, path: string): string | undefined {
  if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) { const u = findUnknown(v[i], `${path}[${i}]`); if (u) return u; }
    return undefined;
  }
  for (const [k, x] of Object.entries(v)) {
    if (k === '$unknown') return `${path}.$unknown`;
    const u = findUnknown(x, `${path}.${k}`);
    if (u) return u;
  }
  return undefined;
}

/**
 * Round-trips every *.onnx under `root` (and each test_data_set_* value file beside a model.onnx)
 * and returns the files whose re-encoding is not byte-identical, with the reason.
 */
function roundTripTree(root: string): { models: number; values: number; failures: string[] } {
  let models = 0, values = 0;
  const failures: string[] = [];
  const check = (path: string, type: OnnxMessageName): unknown => {
    const input = readFileSync(path);
    try {
      const msg = decodeMessage(type, input);
      const unknown = findUnknown(msg, type);
      if (unknown) failures.push(`${relative(root, path)}: schema does not know ${unknown}`);
      const out = encodeMessage(type, msg);
      if (!bytesEqual(out, input)) failures.push(`${relative(root, path)}: re-encoded ${out.length} bytes differ from ${input.length}`);
      return msg;
    } catch (err) {
      failures.push(`${relative(root, path)}: ${(err as Error).message}`);
      return undefined;
    }
  };
  const models_: Map<string, ModelProto | undefined> = new Map();
  const files = [...walk(root)];
  for (const p of files) {
    if (!p.endsWith('.onnx')) continue;
    models++;
    models_.set(p, check(p, 'ModelProto') as ModelProto | undefined);
  }
  for (const p of files) {
    const m = /^(.*)\/test_data_set_\d+\/(input|output)_(\d+)\.pb$/.exec(p);
    if (!m && p.endsWith('.pb')) { values++; check(p, 'TensorProto'); continue; }
    if (!m) continue;
    const g = models_.get(join(m[1]!, 'model.onnx'))?.graph;
    const inits = new Set((g?.initializer ?? []).map((t) => t.name));
    const list = m[2] === 'input' ? (g?.input ?? []).filter((v) => !inits.has(v.name)) : (g?.output ?? []);
    values++;
    check(p, valueType(list[Number(m[3])]?.type));
  }
  return { models, values, failures };
}

test('shared corpus: every model and value file re-encodes byte-identically', (t) => {
  if (!existsSync(CORPUS)) return t.skip(`${CORPUS} is absent in this environment`);
  const r = roundTripTree(CORPUS);
  t.diagnostic(`${r.models} models, ${r.values} value files`);
  assert.ok(r.models >= 10, `expected the corpus models, found ${r.models}`);
  assert.ok(r.values >= 10, `expected the corpus value files, found ${r.values}`);
  assert.deepEqual(r.failures, []);
});

test('libonnx-testdata: all backend test models and value files re-encode byte-identically', (t) => {
  if (!existsSync(TESTDATA)) return t.skip(`${TESTDATA} is absent (apt-get install libonnx-testdata)`);
  const t0 = performance.now();
  const r = roundTripTree(TESTDATA);
  t.diagnostic(`${r.models} models, ${r.values} value files in ${(performance.now() - t0).toFixed(0)} ms`);
  assert.ok(r.models >= 1000, `expected ~1070 models, found ${r.models}`);
  assert.ok(r.values >= 3000, `expected ~3200 value files, found ${r.values}`);
  assert.deepEqual(r.failures, []);
});

test('hand-checked facts: pytorch_conv2d and super_resolution', (t) => {
  if (!existsSync(CORPUS)) return t.skip(`${CORPUS} is absent in this environment`);
  const m = decodeModel(readFileSync(join(CORPUS, 'pytorch_conv2d/model.onnx')));
  assert.equal(m.irVersion, 3);
  assert.equal(m.producerName, 'pytorch');
  assert.deepEqual(m.opsetImport, [{ version: 6 }]); // domain absent in the bytes → undefined
  assert.equal(m.graph?.node?.length, 1);
  assert.equal(m.graph!.node![0]!.opType, 'Conv');
  const in0 = m.graph!.input![0]!;
  assert.equal(in0.name, '0');
  assert.deepEqual(in0.type?.tensorType?.shape?.dim?.map((d) => d.dimValue), [2, 3, 7, 5]);
  assert.equal(in0.type?.tensorType?.elemType, 1);
  const sr = decodeModel(readFileSync(join(CORPUS, 'super_resolution_pytorch0.2.onnx')));
  assert.equal(sr.irVersion, 1);
  assert.equal(sr.opsetImport, undefined);
  const io = decodeTensor(readFileSync(join(CORPUS, 'pytorch_conv2d/test_data_set_0/input_0.pb')));
  assert.deepEqual(io.dims, [2, 3, 7, 5]);
  assert.equal(io.rawData?.length ?? (io.floatData?.length ?? 0) * 4, 2 * 3 * 7 * 5 * 4);
});

test('bytes fields and aligned packed floats are zero-copy views of the input', (t) => {
  const raw = new Uint8Array(4096).map((_, i) => i & 255);
  const bytes = encodeTensor({ dims: [1024], dataType: 1, name: 'w', rawData: raw });
  const tensor = decodeTensor(bytes);
  assert.equal(tensor.rawData!.buffer, bytes.buffer);
  assert.ok(bytesEqual(tensor.rawData!, raw));
  // Packed float data: a view when 4-aligned in the input's buffer, else one copy; same values either way.
  const f = Float32Array.from({ length: 100 }, (_, i) => i * 0.5 - 7);
  const enc = encodeTensor({ dims: [100], floatData: f }); // float_data is the last field: its bytes end the buffer
  const seen = new Set<boolean>();
  for (let shift = 0; shift < 4; shift++) {
    const big = new Uint8Array(enc.length + 4);
    big.set(enc, shift);
    const dec = decodeTensor(big.subarray(shift, shift + enc.length));
    assert.deepEqual(dec.floatData, f);
    const aligned = (shift + enc.length - 400) % 4 === 0;
    assert.equal(dec.floatData!.buffer === big.buffer, aligned);
    seen.add(aligned);
  }
  assert.equal(seen.size, 2);
  if (existsSync(CORPUS)) {
    const file = readFileSync(join(CORPUS, 'super_resolution_pytorch0.2.onnx'));
    const m = decodeModel(file);
    assert.equal(m.graph!.initializer![0]!.rawData!.buffer, file.buffer);
  } else t.diagnostic('corpus absent: only synthetic zero-copy check ran');
});

test('int64 extremes and negatives: exact 10-byte varints, INT64_MAX clamps exactly', () => {
  // AttributeProto field 8 (ints, unpacked): tag 0x40.
  const attr = { name: 'ends', type: 7, ints: [INT64_MAX, -1, -(2 ** 63), 0, 1] };
  const bytes = encodeMessage('AttributeProto', attr);
  const want = hex('0a 04 656e6473' + '40 ffffffffffffffff7f' + '40 ffffffffffffffffff01' +
    '40 80808080808080808001' + '40 00' + '40 01' + 'a001 07');
  assert.deepEqual(bytes, want);
  const back = decodeMessage('AttributeProto', want);
  assert.deepEqual(back.ints, attr.ints);
  assert.deepEqual(encodeMessage('AttributeProto', back), want);
  // 2^63 and beyond (and +Infinity) clamp to INT64_MAX; below -2^63 to INT64_MIN.
  assert.deepEqual(encodeMessage('AttributeProto', { i: 1e300 }), hex('18 ffffffffffffffff7f'));
  assert.deepEqual(encodeMessage('AttributeProto', { i: -Infinity }), hex('18 80808080808080808001'));
  assert.deepEqual(encodeMessage('AttributeProto', { i: -2 }), hex('18 feffffffffffffffff01'));
  assert.equal(decodeMessage('AttributeProto', hex('18 feffffffffffffffff01')).i, -2);
  assert.equal(decodeMessage('AttributeProto', hex('18 8080808080808001')).i, 2 ** 49);
  // negative int32 (data_type) is sign-extended to 10 bytes too
  assert.deepEqual(encodeTensor({ dataType: -3 }), hex('10 fdffffffffffffffff01'));
  assert.equal(decodeTensor(hex('10 fdffffffffffffffff01')).dataType, -3);
  assert.throws(() => encodeMessage('AttributeProto', { i: NaN }), TypeError);
});

test('typed tensor data fields round-trip exactly, packed or unpacked on input', () => {
  const t: TensorProto = {
    dims: [3], dataType: 7,
    int32Data: Int32Array.from([0, -1, 2147483647, -2147483648, 300]),
    int64Data: BigInt64Array.from([0n, -1n, 9223372036854775807n, -9223372036854775808n, 1n << 40n]),
    doubleData: Float64Array.from([Math.PI, -0, 1e308]),
    uint64Data: BigUint64Array.from([0n, 18446744073709551615n, 1n << 63n]),
    floatData: Float32Array.from([1.5, -2.25]),
  };
  const bytes = encodeTensor(t);
  assert.deepEqual(decodeTensor(bytes), t);
  assert.deepEqual(encodeTensor(decodeTensor(bytes)), bytes);
  // Unpacked float_data elements (tag 0x25) mixed with a packed chunk (tag 0x22), and packed dims.
  const mixed = hex('0a 02 0203' + '25 0000c03f' + '22 08 00001040 00002040' + '25 00003040' + '3a 0b ffffffffffffffffff01 01');
  const d = decodeTensor(mixed);
  assert.deepEqual(d.dims, [2, 3]);
  assert.deepEqual(d.floatData, Float32Array.from([1.5, 2.25, 2.5, 2.75]));
  assert.deepEqual(d.int64Data, BigInt64Array.from([-1n, 1n]));
  assert.throws(() => encodeTensor({ floatData: [1, 2] as unknown as Float32Array }), /Float32Array/);
});

test('explicit zero values and empty strings are kept; absent fields stay undefined', () => {
  const m: ModelProto = { irVersion: 0, producerName: '', graph: { node: [{ opType: 'Relu', input: [''] }] } };
  const bytes = encodeModel(m);
  assert.deepEqual(bytes, hex('08 00' + '12 00' + '3a 0a 0a 08 0a00 2204 52656c75'));
  const back = decodeModel(bytes);
  assert.deepEqual(back, m);
  assert.equal(back.modelVersion, undefined);
  assert.equal(back.graph!.initializer, undefined);
  assert.deepEqual(encodeModel({ opsetImport: [], graph: { node: [] } }), hex('3a 00'));
});

test('non-ASCII strings (incl. astral characters) round-trip', () => {
  const m: ModelProto = { docString: 'héllo — 世界 🚀 \ufeffbom', producerName: 'x'.repeat(200) + 'ü', metadataProps: [{ key: 'k', value: '' }] };
  assert.deepEqual(decodeModel(encodeModel(m)), m);
  assert.deepEqual(Buffer.from(encodeModel({ domain: '€' })), Buffer.from([0x22, 3, 0xe2, 0x82, 0xac]));
});

test('unknown fields survive decode/encode verbatim', () => {
  // ModelProto: ir_version 7, unknown varint field 99, graph with an unknown length-delimited field 50
  // in its first node, an unknown fixed32 field 30, an unknown group (field 40), and an unknown fixed64.
  const node = '22 03 416464' + '9203 03 78797a'; // op_type "Add", field 50 = "xyz" (11 bytes)
  const graph = '0a 0b' + node; // 13 bytes
  const bytes = hex('08 07' + '3a 0d' + graph + '98 06 05' + 'f5 01 01020304' + 'c3 02 08 01 c4 02' + 'f9 02 0102030405060708');
  const m = decodeModel(bytes);
  assert.equal(m.irVersion, 7);
  assert.equal(m.graph!.node![0]!.opType, 'Add');
  assert.equal(m.graph!.node![0]!.$unknown!.length, 1);
  assert.equal(m.$unknown!.length, 4);
  assert.deepEqual(encodeModel(m), bytes);
  // A known field number with the wrong wire type (ir_version as fixed32) is kept as unknown too.
  const odd = hex('0d 01000000');
  assert.deepEqual(decodeModel(odd), { $unknown: [odd] });
  assert.deepEqual(encodeModel(decodeModel(odd)), odd);
});

test('device configuration, sharding, sparse and training messages round-trip', () => {
  const m: ModelProto = {
    irVersion: 11,
    configuration: [{ name: 'cfg', numDevices: 2, device: ['gpu:0', 'gpu:1'] }],
    trainingInfo: [{ initialization: { name: 'init' }, updateBinding: [{ key: 'w', value: 'w_new' }] }],
    functions: [{ name: 'f', domain: 'd', overload: 'o', input: ['x'], output: ['y'], attribute: ['a'],
      attributeProto: [{ name: 'b', type: 2, i: -4 }], node: [{ opType: 'Identity', input: ['x'], output: ['y'] }],
      valueInfo: [{ name: 'x', metadataProps: [{ key: 'a', value: 'b' }] }] }],
    graph: {
      node: [{
        opType: 'MatMul', overload: 'ov', deviceConfigurations: [{
          configurationId: 'cfg', pipelineStage: 1,
          shardingSpec: [{ tensorName: 'W', device: [0, 1], indexToDeviceGroupMap: [{ key: 0, value: [0, 1] }],
            shardedDim: [{ axis: -1, simpleSharding: [{ dimParam: 'N', numShards: 2 }, { dimValue: 8 }] }] }],
        }],
        attribute: [{ name: 'tp', type: 13, tp: { optionalType: { elemType: { sequenceType: { elemType: { mapType: { keyType: 7, valueType: { tensorType: { elemType: 1 } } } } } } } } },
          { name: 'tps', type: 14, typeProtos: [{ sparseTensorType: { elemType: 1, shape: { dim: [{ dimParam: 'n', denotation: 'BATCH' }] } } }, { opaqueType: { domain: 'x', name: 'y' } }] },
          { name: 'fl', type: 6, floats: [0.5, -1] }, { name: 'ss', type: 8, strings: [new Uint8Array([1, 2]), new Uint8Array()] }],
      }],
      sparseInitializer: [{ values: { dims: [2], dataType: 1, floatData: Float32Array.from([1, 2]) }, indices: { dims: [2], dataType: 7, int64Data: BigInt64Array.from([0n, 5n]) }, dims: [10] }],
      quantizationAnnotation: [{ tensorName: 'W', quantParameterTensorNames: [{ key: 'SCALE_TENSOR', value: 's' }] }],
      initializer: [{ name: 'ext', dataLocation: 1, externalData: [{ key: 'location', value: 'w.bin' }], segment: { begin: 0, end: 10 }, metadataProps: [{ key: 'q', value: 'r' }] }],
    },
  };
  const bytes = encodeModel(m);
  const back = decodeModel(bytes);
  assert.deepEqual(back, m);
  assert.deepEqual(encodeModel(back), bytes);
});

test('truncated and garbage input throws a clear malformed-ONNX error, quickly', () => {
  const full = encodeModel({ irVersion: 9, producerName: 'test', graph: { name: 'g', initializer: [{ name: 'w', rawData: new Uint8Array(1200) }] } });
  for (const cut of [1, 3, 10, full.length - 600, full.length - 1]) {
    assert.throws(() => decodeModel(full.subarray(0, cut)), (err: Error) => {
      assert.ok(err instanceof OnnxProtoError);
      assert.match(err.message, /^malformed ONNX protobuf \(ModelProto\): truncated protobuf/);
      return true;
    });
  }
  assert.throws(() => decodeModel(full.subarray(0, full.length - 600)), /field 7 \(graph\) of ModelProto needs 1212 bytes, 612 left/);
  // A length claiming 4 GiB must be rejected before anything is allocated.
  assert.throws(() => decodeModel(hex('3a ffffffff0f 00')), /field 7 \(graph\) of ModelProto needs 4294967295 bytes, 1 left/);
  assert.throws(() => decodeModel(hex('08 ffffffffffffffffffff01')), /malformed ONNX protobuf.*varint longer than 10 bytes/);
  assert.throws(() => decodeModel(hex('0f')), /malformed ONNX protobuf.*invalid wire type 7/);
  assert.throws(() => decodeModel(hex('00 00')), /malformed ONNX protobuf.*field number 0/);
  // Deep nesting (TypeProto.sequence_type.elem_type...) is refused, not a stack overflow.
  let deep = new Uint8Array(0);
  for (let i = 0; i < 300; i++) {
    const len = deep.length;
    const hdr = [0x0a, ...(len < 128 ? [len] : [(len & 0x7f) | 0x80, len >> 7])];
    const seq = Uint8Array.from([...hdr, ...deep]); // TypeProto.Sequence { elem_type = deep }
    deep = Uint8Array.from([0x22, ...(seq.length < 128 ? [seq.length] : [(seq.length & 0x7f) | 0x80, seq.length >> 7]), ...seq]);
  }
  assert.throws(() => decodeMessage('TypeProto', deep), /malformed ONNX protobuf.*nested deeper/);
  // Seeded random garbage: decode must either succeed (unknown fields) or throw OnnxProtoError.
  let seed = 12345;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 255;
  let thrown = 0;
  const t0 = performance.now();
  for (let i = 0; i < 2000; i++) {
    const junk = Uint8Array.from({ length: 1 + (i % 300) }, rnd);
    try { decodeModel(junk); } catch (err) { assert.ok(err instanceof OnnxProtoError, String(err)); thrown++; }
  }
  assert.ok(thrown > 1800, `expected most random buffers to be rejected, ${thrown}/2000 were`);
  assert.throws(() => decodeModel(Uint8Array.from({ length: 1 << 20 }, rnd)), OnnxProtoError);
  assert.ok(performance.now() - t0 < 5000);
});
