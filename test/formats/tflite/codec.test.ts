import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { ByteBuffer } from 'flatbuffers';
import {
  builtinOpCode, builtinOpName, decodeTflite, encodeTflite, makeOperatorCode, opcodeOf, operatorName,
  tensorTypeCode, tensorTypeName, withStaticBatch, type TfliteModel,
} from '../../../src/formats/tflite/codec.js';
import { BUILTIN_OPERATORS, TFLITE_SCHEMA } from '../../../src/formats/tflite/schema.js';
import { MloptError } from '../../../src/util/errors.js';
import { CORPUS, FIXTURES } from '../../helpers.js';

const CORPUS_DIR = join(CORPUS, 'tflite');
const CORPUS_SKIP = existsSync(CORPUS_DIR) ? false : `../shared/corpus/tflite not found (${CORPUS_DIR}); corpus tests skipped`;
const tflites = (dir: string): string[] =>
  existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.tflite')).sort().map((f) => join(dir, f)) : [];
const FIXTURE_FILES = tflites(join(FIXTURES, 'models'));
const CORPUS_FILES = tflites(CORPUS_DIR);
const CNN = join(FIXTURES, 'models', 'fmnist_cnn_float32.tflite');
const CNN_INT8 = join(FIXTURES, 'models', 'fmnist_cnn_int8.tflite');

const load = (f: string): Uint8Array => new Uint8Array(readFileSync(f));

/** Asserts `fn` throws an MloptError `code` with a one-line message starting with `prefix`. */
function assertMlopt(fn: () => unknown, code: string, prefix: string): MloptError {
  let caught: unknown;
  try { fn(); } catch (err) { caught = err; }
  assert.ok(caught instanceof MloptError, `expected MloptError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.ok(caught.message.startsWith(prefix), caught.message);
  assert.ok(!caught.message.includes('\n'), caught.message);
  return caught;
}

function roundTrip(file: string): { size: number; out: number } {
  const bytes = load(file);
  const m = decodeTflite(bytes, basename(file));
  const out = encodeTflite(m);
  assert.equal(String.fromCharCode(...out.subarray(4, 8)), 'TFL3');
  const m2 = decodeTflite(out, 're-encoded');
  assert.deepStrictEqual(m2, m);
  // Re-encoding what was re-encoded is stable byte for byte.
  assert.deepStrictEqual(encodeTflite(m2), out);
  // Buffer data is 16-byte aligned in the output, as the converter writes it.
  for (const b of m2.buffers) if (b.data.length) assert.equal((b.data.byteOffset - out.byteOffset) % 16, 0);
  return { size: bytes.length, out: out.length };
}

function checkSize(file: string, size: number, out: number): void {
  // Converter-made files stay within 2 %; tiny legacy files differ by a few dozen bytes of padding.
  const diff = Math.abs(out - size);
  assert.ok(diff <= 0.02 * size || diff <= 128, `${basename(file)}: ${size} → ${out} bytes`);
}

test('schema: enum tables and unions are complete and consistent', () => {
  assert.equal(BUILTIN_OPERATORS.length, 210);
  assert.equal(builtinOpName(3), 'CONV_2D');
  assert.equal(builtinOpName(127), 'PLACEHOLDER_FOR_GREATER_OP_CODES');
  assert.equal(builtinOpName(150), 'GELU');
  assert.equal(builtinOpName(209), 'STABLEHLO_CASE');
  assert.equal(builtinOpName(999), 'BUILTIN_999');
  for (let i = 0; i < BUILTIN_OPERATORS.length; i++) assert.equal(builtinOpCode(builtinOpName(i)), i);
  assert.equal(builtinOpCode('BUILTIN_999'), 999);
  assertMlopt(() => builtinOpCode('NOT_AN_OP'), 'UNKNOWN_OP', 'unknown TFLite builtin operator');
  assert.equal(tensorTypeName(0), 'FLOAT32');
  assert.equal(tensorTypeName(9), 'INT8');
  assert.equal(tensorTypeName(17), 'INT4');
  assert.equal(tensorTypeName(18), 'BFLOAT16');
  assert.equal(tensorTypeCode('INT8'), 9);
  assert.equal(TFLITE_SCHEMA.unions.BuiltinOptions!.indexOf('Conv2DOptions') + 1, 1);
  assert.equal(TFLITE_SCHEMA.unions.BuiltinOptions!.indexOf('BatchMatMulOptions') + 1, 101);
  assert.equal(TFLITE_SCHEMA.unions.BuiltinOptions!.indexOf('GeluOptions') + 1, 116);
  assert.equal(TFLITE_SCHEMA.unions.BuiltinOptions!.length, 126);
  for (const members of Object.values(TFLITE_SCHEMA.unions)) for (const m of members) assert.ok(TFLITE_SCHEMA.tables[m], m);
});

test('opcodeOf / makeOperatorCode follow the extended builtin code rules', () => {
  assert.equal(opcodeOf({ deprecatedBuiltinCode: 3, builtinCode: 0 }), 3); // old files: only the byte
  assert.equal(opcodeOf({ deprecatedBuiltinCode: 127, builtinCode: 150 }), 150);
  assert.equal(opcodeOf({ deprecatedBuiltinCode: 9, builtinCode: 9 }), 9);
  assert.deepEqual(makeOperatorCode('GELU'), { deprecatedBuiltinCode: 127, version: 1, builtinCode: 150 });
  assert.deepEqual(makeOperatorCode(3, 2), { deprecatedBuiltinCode: 3, version: 2, builtinCode: 3 });
  assert.equal(operatorName(makeOperatorCode('CUSTOM', 1, 'TFLite_Detection_PostProcess')), 'TFLite_Detection_PostProcess');
});

test('fmnist_cnn_float32.tflite: known facts', () => {
  const m = decodeTflite(load(CNN), 'fmnist_cnn_float32.tflite');
  assert.equal(m.version, 3);
  assert.equal(m.subgraphs.length, 1);
  assert.equal(m.buffers[0]!.data.length, 0);
  const sg = m.subgraphs[0]!;
  assert.equal(sg.inputs.length, 1);
  assert.equal(sg.outputs.length, 1);
  const input = sg.tensors[sg.inputs[0]!]!, output = sg.tensors[sg.outputs[0]!]!;
  assert.equal(input.name, 'serving_default_input:0');
  assert.deepEqual(input.shapeSignature, [-1, 28, 28, 1]);
  assert.deepEqual(input.shape, [1, 28, 28, 1]);
  assert.equal(tensorTypeName(input.type), 'FLOAT32');
  assert.equal(output.name, 'StatefulPartitionedCall:0');
  assert.deepEqual(output.shapeSignature, [-1, 10]);
  const ops = sg.operators.map((op) => operatorName(m.operatorCodes[op.opcodeIndex]!));
  assert.deepEqual(ops, ['CONV_2D', 'MAX_POOL_2D', 'CONV_2D', 'MAX_POOL_2D', 'RESHAPE', 'FULLY_CONNECTED', 'FULLY_CONNECTED', 'SOFTMAX']);
  const conv = sg.operators[0]!;
  assert.deepEqual(conv.builtinOptions, {
    type: 'Conv2DOptions', padding: 'SAME', strideW: 1, strideH: 1, fusedActivationFunction: 'RELU',
    dilationWFactor: 1, dilationHFactor: 1, quantizedBiasType: 'FLOAT32',
  });
  assert.equal(sg.operators[1]!.builtinOptions!.type, 'Pool2DOptions');
  assert.equal(sg.operators[1]!.builtinOptions!.padding, 'VALID');
  assert.equal(sg.operators[1]!.builtinOptions!.filterWidth, 2);
  assert.deepEqual(sg.operators[7]!.builtinOptions, { type: 'SoftmaxOptions', beta: 1 });
  // Conv weights: constant float32 data, a zero-copy view of the file.
  const w = sg.tensors[conv.inputs[1]!]!;
  const data = m.buffers[w.buffer]!.data;
  assert.equal(data.length, 4 * w.shape.reduce((a, b) => a * b, 1));
  assert.equal(m.signatureDefs?.[0]?.signatureKey, 'serving_default');
  assert.deepEqual(m.signatureDefs?.[0]?.inputs, [{ name: 'input', tensorIndex: sg.inputs[0] }]);
  assert.deepEqual(m.metadata?.map((x) => x.name), ['min_runtime_version', 'CONVERSION_METADATA']);
});

test('fmnist_cnn_int8.tflite: per-channel int8 conv weights, int8 activations', () => {
  const m = decodeTflite(load(CNN_INT8));
  const sg = m.subgraphs[0]!;
  const ops = sg.operators.map((op) => operatorName(m.operatorCodes[op.opcodeIndex]!));
  assert.equal(ops[0], 'QUANTIZE');
  assert.equal(ops.at(-1), 'DEQUANTIZE');
  const convs = sg.operators.filter((op) => opcodeOf(m.operatorCodes[op.opcodeIndex]!) === builtinOpCode('CONV_2D'));
  assert.equal(convs.length, 2);
  for (const conv of convs) {
    const [x, w, b] = conv.inputs.map((i) => sg.tensors[i]!);
    assert.equal(tensorTypeName(x!.type), 'INT8');
    assert.equal(tensorTypeName(w!.type), 'INT8');
    assert.equal(tensorTypeName(b!.type), 'INT32');
    const q = w!.quantization!;
    assert.equal(q.quantizedDimension, 0);
    assert.equal(q.scale!.length, w!.shape[0]);
    assert.ok(q.scale!.length > 1);
    assert.deepEqual(q.zeroPoint, new Array(w!.shape[0]).fill(0n));
    assert.equal(x!.quantization!.scale!.length, 1);
    assert.equal(typeof x!.quantization!.zeroPoint![0], 'bigint');
    const out = sg.tensors[conv.outputs[0]!]!;
    assert.equal(tensorTypeName(out.type), 'INT8');
  }
});

test('round trip: every fixture .tflite decodes, re-encodes equal and about the same size', () => {
  assert.ok(FIXTURE_FILES.length >= 4);
  for (const f of FIXTURE_FILES) {
    const { size, out } = roundTrip(f);
    checkSize(f, size, out);
  }
});

test('round trip: every corpus .tflite decodes, re-encodes equal and about the same size', { skip: CORPUS_SKIP }, async (t) => {
  for (const f of CORPUS_FILES) {
    await t.test(basename(f), () => {
      const { size, out } = roundTrip(f);
      checkSize(f, size, out);
    });
  }
});

test('corpus: option tables, custom ops, metadata zips and LSTM models decode as expected', { skip: CORPUS_SKIP }, () => {
  const ssd = decodeTflite(load(join(CORPUS_DIR, 'tfls_coco_ssd_mobilenet_v1_uint8_postprocess.tflite')));
  const post = ssd.subgraphs[0]!.operators.find((op) => operatorName(ssd.operatorCodes[op.opcodeIndex]!) === 'TFLite_Detection_PostProcess');
  assert.ok(post?.customOptions && post.customOptions.length > 0);
  // The metadata writer's zip of associated files (labels) is kept after the flatbuffer.
  assert.deepEqual([...ssd.trailingData!.subarray(0, 4)], [0x50, 0x4b, 3, 4]);
  const lstm = decodeTflite(load(join(CORPUS_DIR, 'tflm_mnist_lstm_float.tflite')));
  const l = lstm.subgraphs[0]!.operators.find((op) => op.builtinOptions?.type === 'UnidirectionalSequenceLSTMOptions');
  assert.ok(l);
  assert.equal(typeof l.builtinOptions!.timeMajor, 'boolean');
  assert.equal(typeof l.builtinOptions!.cellClip, 'number');
  const mb = decodeTflite(load(join(CORPUS_DIR, 'tflm_mobilenet_v2_int8_tinynn_from_pytorch.tflite')));
  const mean = mb.subgraphs[0]!.operators.find((op) => op.builtinOptions?.type === 'ReducerOptions');
  assert.equal(typeof mean?.builtinOptions?.keepDims, 'boolean');
});

test('decoding and encoding a 4 MB model take milliseconds', { skip: CORPUS_SKIP }, () => {
  const bytes = load(join(CORPUS_DIR, 'tflm_mobilenet_v2_int8_tinynn_from_pytorch.tflite'));
  let m = decodeTflite(bytes);
  encodeTflite(m); // warm up
  const t0 = performance.now();
  m = decodeTflite(bytes);
  const t1 = performance.now();
  encodeTflite(m);
  const t2 = performance.now();
  assert.ok(t1 - t0 < 100, `decode took ${t1 - t0} ms`);
  assert.ok(t2 - t1 < 250, `encode took ${t2 - t1} ms`);
});

test('truncated files and wrong identifiers fail with one-line CORRUPT_MODEL errors', () => {
  const bytes = load(CNN);
  assertMlopt(() => decodeTflite(new Uint8Array(0), 'a.tflite'), 'CORRUPT_MODEL', 'a.tflite: truncated TFLite file');
  assertMlopt(() => decodeTflite(bytes.subarray(0, 7), 'a.tflite'), 'CORRUPT_MODEL', 'a.tflite: truncated TFLite file');
  const wrong = bytes.slice();
  wrong.set([0x54, 0x46, 0x4c, 0x32], 4); // TFL2
  const e = assertMlopt(() => decodeTflite(wrong, 'b.tflite'), 'CORRUPT_MODEL', 'b.tflite: not a TFLite flatbuffer');
  assert.match(e.message, /"TFL2"/);
  assertMlopt(() => decodeTflite(new TextEncoder().encode('PK\x03\x04 not a model at all'), 'c'), 'CORRUPT_MODEL', 'c: not a TFLite flatbuffer');
  for (const n of [8, 12, 100, 1000, 4096, bytes.length >> 1, bytes.length - 300, bytes.length - 1]) {
    assertMlopt(() => decodeTflite(bytes.subarray(0, n), 'd.tflite'), 'CORRUPT_MODEL', 'd.tflite: ');
  }
});

test('random corruption never escapes as anything but CORRUPT_MODEL', () => {
  const bytes = load(join(FIXTURES, 'models', 'fmnist_mlp_int8.tflite'));
  let seed = 12345;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  // Corrupt the flatbuffer's structure (the root, vtables and offsets near both ends).
  for (let k = 0; k < 400; k++) {
    const b = bytes.slice();
    for (let j = 0; j < 4; j++) {
      const at = rnd(2) ? 8 + rnd(2048) : b.length - 1 - rnd(4096);
      b[at] = rnd(256);
    }
    try {
      const m = decodeTflite(b, 'x');
      encodeTflite(m);
    } catch (err) {
      assert.ok(err instanceof MloptError, `${String(err)}`);
      assert.ok(['CORRUPT_MODEL', 'INVALID_GRAPH', 'UNSUPPORTED'].includes(err.code), err.message);
    }
  }
});

test('indices out of range are reported as CORRUPT_MODEL', () => {
  const m = decodeTflite(load(CNN));
  m.subgraphs[0]!.tensors[0]!.buffer = 9999;
  const bytes = encodeTflite(m);
  assertMlopt(() => decodeTflite(bytes, 'e.tflite'), 'CORRUPT_MODEL', 'e.tflite: subgraph 0 tensor 0');
  const m2 = decodeTflite(load(CNN));
  m2.subgraphs[0]!.operators[0]!.inputs[0] = 500;
  assertMlopt(() => decodeTflite(encodeTflite(m2), 'f'), 'CORRUPT_MODEL', 'f: subgraph 0: operator 0 input refers to tensor 500');
});

test('external buffer data (Buffer.offset/size, the >2 GB layout) reads back the same', () => {
  const bytes = load(CNN);
  const m = decodeTflite(bytes);
  const ext = encodeTflite(m, { externalData: true });
  const m2 = decodeTflite(ext, 'ext');
  assert.deepStrictEqual(m2, m);
  // The data really is outside the flatbuffer: the buffer tables hold offset/size, so cutting the tail breaks it.
  const biggest = m2.buffers.reduce((a, b) => (b.data.length > a.data.length ? b : a));
  assert.equal((biggest.data.byteOffset - ext.byteOffset) % 16, 0);
  assertMlopt(() => decodeTflite(ext.subarray(0, ext.length - 16), 'cut'), 'CORRUPT_MODEL', 'cut: truncated TFLite file: buffer');
  assert.ok(Math.abs(ext.length - bytes.length) < 0.02 * bytes.length);
  // And it re-encodes inline by default.
  assert.deepStrictEqual(decodeTflite(encodeTflite(m2)), m);
});

/** Position of Model.subgraphs[0].operators[op] (a table) in a file, and of one of its vtable fields. */
function operatorField(bytes: Uint8Array, op: number, slot: number): number {
  const bb = new ByteBuffer(bytes);
  const field = (table: number, s: number): number => {
    const vt = table - bb.readInt32(table);
    return 4 + 2 * s < bb.readUint16(vt) ? bb.readUint16(vt + 4 + 2 * s) : 0;
  };
  const deref = (p: number): number => p + bb.readUint32(p);
  const root = deref(0);
  const subgraphs = deref(root + field(root, 2));
  const sg = deref(subgraphs + 4);
  const ops = deref(sg + field(sg, 3));
  const opTable = deref(ops + 4 + 4 * op);
  const fo = field(opTable, slot);
  assert.ok(fo > 0);
  return opTable + fo;
}

test('an options table of an unknown type round-trips byte for byte, children included', () => {
  const m = decodeTflite(load(CNN));
  // Give operator 4 (RESHAPE, no options) a table with strings; then relabel it with a type code no schema knows.
  m.subgraphs[0]!.operators[4]!.builtinOptions = { type: 'VarHandleOptions', container: 'box', sharedName: 'shared-variable-name' };
  const bytes = encodeTflite(m);
  const typeAt = operatorField(bytes, 4, 3); // Operator.builtin_options_type
  assert.equal(bytes[typeAt], TFLITE_SCHEMA.unions.BuiltinOptions!.indexOf('VarHandleOptions') + 1);
  bytes[typeAt] = 250;
  const unknown = decodeTflite(bytes);
  const opts = unknown.subgraphs[0]!.operators[4]!.builtinOptions!;
  assert.equal(opts.type, 'BuiltinOptions#250');
  assert.ok(opts.$raw);
  const again = encodeTflite(unknown);
  const back = decodeTflite(again);
  assert.deepStrictEqual(back, unknown);
  // Relabel the re-emitted table: its fields, strings included, survived the move.
  const copy = again.slice();
  copy[operatorField(copy, 4, 3)] = TFLITE_SCHEMA.unions.BuiltinOptions!.indexOf('VarHandleOptions') + 1;
  assert.deepEqual(decodeTflite(copy).subgraphs[0]!.operators[4]!.builtinOptions, { type: 'VarHandleOptions', container: 'box', sharedName: 'shared-variable-name' });
});

test('an unknown options table that may point outside its bytes is refused, naming the operator', () => {
  const m = decodeTflite(load(CNN));
  m.subgraphs[0]!.operators[4]!.builtinOptions = {
    type: 'BuiltinOptions#250',
    $raw: { code: 250, vtable: Uint8Array.of(6, 0, 8, 0, 4, 0), bytes: new Uint8Array(8), phase: 0, unsafe: 'slot 0 may hold an offset to byte 9999' },
  };
  const e = assertMlopt(() => encodeTflite(m), 'UNSUPPORTED', 'cannot re-encode subgraph 0 operator 4 (RESHAPE)');
  assert.match(e.message, /BuiltinOptions#250/);
});

test('fields added by a newer schema are kept and re-emitted', () => {
  const m = decodeTflite(load(CNN));
  const extra = [{ slot: 20, bytes: Uint8Array.of(7, 1, 0, 0) }, { slot: 21, bytes: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) }, { slot: 23, bytes: Uint8Array.of(9) }];
  m.subgraphs[0]!.tensors[3]!.$extra = extra;
  const m2 = decodeTflite(encodeTflite(m));
  // A slot's width is not on the wire: what comes back is the value, maybe followed by zero padding.
  const got = m2.subgraphs[0]!.tensors[3]!.$extra!;
  assert.deepEqual(got.map((x) => x.slot), [20, 21, 23]);
  for (const [i, x] of got.entries()) {
    assert.deepEqual(x.bytes.subarray(0, extra[i]!.bytes.length), extra[i]!.bytes);
    assert.ok(x.bytes.subarray(extra[i]!.bytes.length).every((b) => b === 0));
    assert.equal(x.unsafe, undefined);
  }
  delete m2.subgraphs[0]!.tensors[3]!.$extra;
  delete m.subgraphs[0]!.tensors[3]!.$extra;
  assert.deepStrictEqual(m2, m);
});

test('encodeTflite rejects malformed objects with INVALID_GRAPH', () => {
  const m = decodeTflite(load(CNN));
  const bad = (f: (x: TfliteModel) => void, re: RegExp): void => {
    const x = decodeTflite(load(CNN));
    f(x);
    const e = assertMlopt(() => encodeTflite(x), 'INVALID_GRAPH', 'cannot encode TFLite model: ');
    assert.match(e.message, re);
  };
  bad((x) => { (x.subgraphs[0]!.tensors[0] as unknown as { type: string }).type = 'FLOAT32'; }, /Model\.subgraphs\[0\]\.tensors\[0\]\.type/);
  bad((x) => { x.subgraphs[0]!.operators[0]!.builtinOptions!.padding = 'SIDEWAYS'; }, /'SIDEWAYS' is not a member/);
  bad((x) => { x.subgraphs[0]!.operators[0]!.builtinOptions = { type: 'NoSuchOptions' }; }, /'NoSuchOptions' is not a BuiltinOptions member/);
  bad((x) => { x.subgraphs[0]!.tensors[0]!.shape = [1.5]; }, /shape\[0\]/);
  // Enum fields also accept codes.
  m.subgraphs[0]!.operators[0]!.builtinOptions!.padding = 1;
  assert.equal(decodeTflite(encodeTflite(m)).subgraphs[0]!.operators[0]!.builtinOptions!.padding, 'VALID');
});

test('withStaticBatch fixes dim 0 of dynamic-batch tensors and leaves the rest shared', () => {
  const m = decodeTflite(load(CNN));
  const s = withStaticBatch(m, 4);
  const sg = s.subgraphs[0]!, orig = m.subgraphs[0]!;
  const input = sg.tensors[sg.inputs[0]!]!;
  assert.deepEqual(input.shape, [4, 28, 28, 1]);
  assert.deepEqual(input.shapeSignature, [4, 28, 28, 1]);
  assert.deepEqual(sg.tensors[sg.outputs[0]!]!.shape, [4, 10]);
  for (const [i, t] of sg.tensors.entries()) {
    const o = orig.tensors[i]!;
    if (o.shapeSignature?.[0] === -1) {
      assert.equal(t.shape[0], 4);
      assert.equal(t.shapeSignature![0], 4);
      assert.deepEqual(t.shape.slice(1), o.shape.slice(1));
      assert.ok(!t.shapeSignature!.includes(-1));
    } else {
      assert.equal(t, o); // untouched tensors are the same objects
    }
  }
  // The input model is not modified, and buffers are shared.
  assert.deepEqual(orig.tensors[orig.inputs[0]!]!.shapeSignature, [-1, 28, 28, 1]);
  assert.equal(s.buffers, m.buffers);
  // The result encodes and decodes like any model.
  assert.deepStrictEqual(decodeTflite(encodeTflite(s)), s);
  // Only dim 0 is fixed; a tensor whose shape is missing gets one from its signature.
  const t0 = { ...orig.tensors[0]!, shape: [], shapeSignature: [-1, -1, 3] };
  const x = withStaticBatch({ ...m, subgraphs: [{ ...orig, tensors: [t0] }] }, 2).subgraphs[0]!.tensors[0]!;
  assert.deepEqual(x.shape, [2, 1, 3]);
  assert.deepEqual(x.shapeSignature, [2, -1, 3]);
  assertMlopt(() => withStaticBatch(m, 0), 'USAGE', 'batch size must be a positive integer');
  assertMlopt(() => withStaticBatch(m, 1.5), 'USAGE', 'batch size must be a positive integer');
});
