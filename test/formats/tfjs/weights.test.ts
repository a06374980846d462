import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import type { Tensor } from '../../../src/ir/tensor.js';
import { encodeTfjsWeights, quantizeWeights, readTfjsWeights, wildcardRegExp } from '../../../src/formats/tfjs/weights.js';
import type { TfjsWeightsManifestGroup } from '../../../src/formats/tfjs/weights.js';
import { loadTfjs } from '../../../src/runtime/tfjs-backend.js';
import { MloptError } from '../../../src/util/errors.js';
import { CORPUS, FIXTURES, tempDir } from '../../helpers.js';

/** Every model.json of the TF.js corpus and the fixtures. */
function tfjsModels(): string[] {
  const out: string[] = [];
  const corpus = join(CORPUS, 'tfjs');
  if (existsSync(corpus)) for (const d of readdirSync(corpus).sort()) if (existsSync(join(corpus, d, 'model.json'))) out.push(join(corpus, d, 'model.json'));
  for (const d of readdirSync(join(FIXTURES, 'models')).sort()) if (existsSync(join(FIXTURES, 'models', d, 'model.json'))) out.push(join(FIXTURES, 'models', d, 'model.json'));
  // (a Keras architecture JSON is also called model.json: only TF.js ones have a weightsManifest)
  return out.filter((f) => Array.isArray((JSON.parse(readFileSync(f, 'utf8')) as { weightsManifest?: unknown }).weightsManifest));
}

function writeModelDir(manifest: TfjsWeightsManifestGroup[], shards: Array<{ path: string; bytes: Uint8Array }>): string {
  const dir = tempDir();
  for (const s of shards) writeFileSync(join(dir, s.path), s.bytes);
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: 'graph-model', modelTopology: { node: [] }, weightsManifest: manifest }));
  return dir;
}

const f32 = (shape: number[], values: number[]): Tensor => ({ dtype: 'float32', shape, data: Float32Array.from(values) });

/** Decode with tfjs itself: every shard of every group, as tfjs-core's io.decodeWeights does. */
async function decodeWithTfjs(dir: string, manifest: TfjsWeightsManifestGroup[]): Promise<Map<string, { dtype: string; shape: number[]; values: ArrayLike<number> | Uint8Array[] }>> {
  const { tf } = await loadTfjs('cpu');
  const out = new Map<string, { dtype: string; shape: number[]; values: ArrayLike<number> | Uint8Array[] }>();
  for (const g of manifest) {
    const parts = g.paths.map((p) => readFileSync(join(dir, p)));
    const buf = new Uint8Array(parts.reduce((n, b) => n + b.byteLength, 0));
    let off = 0;
    for (const p of parts) {
      buf.set(p, off);
      off += p.byteLength;
    }
    const named = tf.io.decodeWeights(buf.buffer, g.weights as never);
    for (const [name, t] of Object.entries(named)) {
      out.set(name, { dtype: t.dtype, shape: t.shape.slice(), values: t.dtype === 'string' ? (t.dataSync() as unknown as Uint8Array[]) : (t.dataSync() as ArrayLike<number>) });
      t.dispose();
    }
  }
  return out;
}

describe('TF.js weights: reading', () => {
  for (const file of tfjsModels()) {
    const name = file.split('/').slice(-2, -1)[0]!;
    it(`${name}: decoded exactly as tf.io.decodeWeights decodes it`, async () => {
      const json = JSON.parse(readFileSync(file, 'utf8')) as { weightsManifest: TfjsWeightsManifestGroup[] };
      const mine = readTfjsWeights(dirname(file), json.weightsManifest, file);
      const ref = await decodeWithTfjs(dirname(file), json.weightsManifest);
      assert.equal(mine.size, ref.size);
      assert.ok(mine.size > 0);
      for (const [n, r] of ref) {
        const t = mine.get(n);
        assert.ok(t, `weight ${n} missing`);
        assert.equal(t.dtype === 'bool' ? 'bool' : t.dtype, r.dtype, n);
        assert.deepEqual(t.shape, r.shape, n);
        assert.deepEqual(Array.from(t.data as ArrayLike<number>), Array.from(r.values as ArrayLike<number>), `${n}: values differ`);
      }
    });
  }

  it('the uint8-quantized nsfwjs weights dequantize to q·scale + min', () => {
    const file = join(CORPUS, 'tfjs', 'nsfwjs_mobilenet_v2_uint8', 'model.json');
    if (!existsSync(file)) return;
    const json = JSON.parse(readFileSync(file, 'utf8')) as { weightsManifest: TfjsWeightsManifestGroup[] };
    const first = json.weightsManifest[0]!.weights[0]!;
    const t = readTfjsWeights(dirname(file), json.weightsManifest, file).get(first.name)!;
    const shard = readFileSync(join(dirname(file), json.weightsManifest[0]!.paths[0]!));
    const { min, scale } = first.quantization!;
    assert.equal(t.dtype, 'float32');
    for (const i of [0, 1, 17, 863]) assert.equal((t.data as Float32Array)[i], Math.fround(shard[i]! * scale! + min!));
  });

  it('a missing shard is FILE_NOT_FOUND; a short shard is CORRUPT_MODEL; both name the file', () => {
    const { manifest, shards } = encodeTfjsWeights([{ name: 'w', tensor: f32([2, 3], [1, 2, 3, 4, 5, 6]) }]);
    const dir = writeModelDir(manifest, []);
    assert.throws(() => readTfjsWeights(dir, manifest, 'm/model.json'), (e: unknown) => e instanceof MloptError && e.code === 'FILE_NOT_FOUND' && /^m\/model\.json: weight shard "group1-shard1of1\.bin" is missing/.test(e.message));
    writeFileSync(join(dir, shards[0]!.path), shards[0]!.bytes.subarray(0, 20));
    assert.throws(() => readTfjsWeights(dir, manifest, 'm/model.json'), (e: unknown) => e instanceof MloptError && e.code === 'CORRUPT_MODEL' && /weight "w" needs 24 bytes .* hold only 20 bytes/.test(e.message));
  });

  it('shard paths with "./" or without an extension are read as written', () => {
    const { manifest, shards } = encodeTfjsWeights([{ name: 'w', tensor: f32([2], [1.5, -2]) }]);
    const dir = tempDir();
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'weights'), shards[0]!.bytes);
    const w = readTfjsWeights(dir, [{ paths: ['./sub/weights'], weights: manifest[0]!.weights }], 'x').get('w')!;
    assert.deepEqual(Array.from(w.data as Float32Array), [1.5, -2]);
  });
});

describe('TF.js weights: writing', () => {
  const weights = [
    { name: 'conv1/kernel', tensor: f32([3, 3, 1, 4], Array.from({ length: 36 }, (_, i) => Math.sin(i) * 0.3)) },
    { name: 'conv1/bias', tensor: f32([4], [0.1, -0.2, 0.3, 0]) },
    { name: 'shape', tensor: { dtype: 'int32', shape: [2], data: Int32Array.of(-1, 784) } as Tensor },
    { name: 'axis64', tensor: { dtype: 'int64', shape: [], data: BigInt64Array.of(3n) } as Tensor },
    { name: 'flag', tensor: { dtype: 'bool', shape: [3], data: Uint8Array.of(1, 0, 1) } as Tensor },
    { name: 'vocab', tensor: { dtype: 'string', shape: [2], data: [new TextEncoder().encode('héllo'), new Uint8Array(0)] } as Tensor },
    { name: 'dense/kernel', tensor: f32([5, 7], Array.from({ length: 35 }, (_, i) => (i - 17) / 9)) },
  ];

  it('encode → decode gives the tensors back, across shard boundaries (int64 stored as int32)', () => {
    const { manifest, shards } = encodeTfjsWeights(weights, { shardSizeBytes: 50 });
    assert.ok(shards.length > 4);
    shards.forEach((s, i) => assert.equal(s.path, `group1-shard${i + 1}of${shards.length}.bin`));
    assert.ok(shards.slice(0, -1).every((s) => s.bytes.byteLength === 50));
    const back = readTfjsWeights(writeModelDir(manifest, shards), manifest, 'x');
    for (const { name, tensor } of weights) {
      const t = back.get(name)!;
      assert.deepEqual(t.shape, tensor.shape, name);
      if (tensor.dtype === 'string') assert.deepEqual(t.data, tensor.data);
      else if (tensor.dtype === 'int64') assert.deepEqual([t.dtype, ...Array.from(t.data as Int32Array)], ['int32', 3]);
      else assert.deepEqual(Array.from(t.data as ArrayLike<number>), Array.from(tensor.data as ArrayLike<number>), name);
    }
    assert.deepEqual(manifest[0]!.weights.map((w) => w.dtype), ['float32', 'float32', 'int32', 'int32', 'bool', 'string', 'float32']);
  });

  it('quantization follows tensorflowjs_converter: nudged min, scale, round-half-even codes (reference values from tensorflowjs 4.22)', () => {
    const c = Float32Array.from([-1, 0, 0.5, 1, 2.5, 3]);
    const u8 = quantizeWeights(c, 'uint8');
    assert.deepEqual(Array.from(u8.bytes), [0, 64, 96, 128, 223, 255]);
    assert.deepEqual(u8.meta, { min: -1.003921568627451, scale: 0.01568627450980392 });
    const u16 = quantizeWeights(c, 'uint16');
    assert.deepEqual(Array.from(new Uint16Array(u16.bytes.slice().buffer)), [0, 16384, 24576, 32768, 57343, 65535]);
    assert.deepEqual(u16.meta, { min: -1.0000152590218967, scale: 6.103608758678569e-5 });
    const d = Float32Array.from([-0.75, -0.3, 0.001, 0.1, 0.2, 0.35, 0.6, 0.77, 1.25, -0.125, 0.5, 0.0625]);
    assert.deepEqual(Array.from(quantizeWeights(d, 'uint8').bytes), [0, 58, 96, 109, 121, 141, 172, 194, 255, 80, 160, 104]);
    assert.deepEqual(quantizeWeights(d, 'uint8').meta, { min: -0.7529411764705882, scale: 0.00784313725490196 });
    assert.deepEqual(Array.from(new Uint16Array(quantizeWeights(d, 'uint16').bytes.slice().buffer)), [0, 14746, 24609, 27853, 31130, 36045, 44236, 49807, 65535, 20480, 40960, 26624]);
    // all-positive range: no nudging
    const e = Float32Array.from([0.1, 0.3, 0.7]);
    assert.deepEqual(quantizeWeights(e, 'uint8').meta.min, Math.fround(0.1));
    // a constant tensor: zeros, scale 1
    assert.deepEqual(quantizeWeights(Float32Array.from([0.25, 0.25]), 'uint8'), { bytes: Uint8Array.of(0, 0), meta: { min: 0.25, scale: 1 } });
    // float16: round to nearest even, 65519 → 65504
    const h = quantizeWeights(Float32Array.from([0.1, 0.3, 0.7, 0.001, 65519, 1e-8, -2.5e-5]), 'float16');
    assert.deepEqual(Array.from(new Uint16Array(h.bytes.slice().buffer)), [11878, 13517, 14746, 5145, 31743, 0, 33187]);
  });

  for (const dtype of ['uint8', 'uint16', 'float16'] as const) {
    it(`${dtype}-quantized weights decode in tfjs to what mlopt decodes, only float32 weights matching the patterns are quantized`, async () => {
      const { manifest, shards } = encodeTfjsWeights(weights, { quantize: { dtype, patterns: ['conv*/kernel', 'dense/*', 'shape'] }, shardSizeBytes: 64 });
      const ws = manifest[0]!.weights;
      assert.deepEqual(ws.filter((w) => w.quantization).map((w) => w.name), ['conv1/kernel', 'dense/kernel']);
      assert.equal(ws[0]!.quantization!.dtype, dtype);
      assert.equal(ws[0]!.quantization!.original_dtype, 'float32');
      const dir = writeModelDir(manifest, shards);
      const mine = readTfjsWeights(dir, manifest, 'x');
      const ref = await decodeWithTfjs(dir, manifest);
      for (const { name, tensor } of weights) {
        if (tensor.dtype === 'string') continue;
        assert.deepEqual(Array.from(mine.get(name)!.data as ArrayLike<number>), Array.from(ref.get(name)!.values as ArrayLike<number>), name);
      }
      // and the values are close to the originals
      const orig = weights[0]!.tensor.data as Float32Array;
      const got = mine.get('conv1/kernel')!.data as Float32Array;
      const tol = dtype === 'uint8' ? 0.6 / 255 : dtype === 'uint16' ? 0.6 / 65535 : 1e-3;
      for (let i = 0; i < orig.length; i++) assert.ok(Math.abs(orig[i]! - got[i]!) <= tol, `${i}: ${orig[i]} vs ${got[i]}`);
    });
  }

  it('pre-quantized entries (uint8 / uint16 codes, float16 bits) are written as they are and decode in tfjs to code · scale + min', async () => {
    const u8 = { dtype: 'uint8', shape: [2, 3], data: Uint8Array.of(0, 1, 127, 128, 200, 255) } as Tensor;
    const u16 = { dtype: 'uint16', shape: [3], data: Uint16Array.of(0, 40000, 65535) } as Tensor;
    const f16 = { dtype: 'float16', shape: [2], data: Uint16Array.of(0x3c00, 0xc500) } as Tensor; // 1, -5
    const s = Math.fround(0.0123);
    const { manifest, shards } = encodeTfjsWeights([
      { name: 'q8', tensor: u8, quantized: { dtype: 'uint8', min: -128 * s, scale: s } },
      { name: 'w', tensor: weights[0]!.tensor },
      { name: 'q16', tensor: u16, quantized: { dtype: 'uint16', min: -3.5, scale: 0.25 } },
      { name: 'h', tensor: f16, quantized: { dtype: 'float16' } },
    ], { quantize: { dtype: 'float16' }, shardSizeBytes: 7 });
    assert.deepEqual(manifest[0]!.weights.map((w) => [w.name, w.dtype, w.quantization]), [
      ['q8', 'float32', { dtype: 'uint8', min: -128 * s, scale: s, original_dtype: 'float32' }],
      ['w', 'float32', { dtype: 'float16', original_dtype: 'float32' }], // the caller's quantization applies to float weights only
      ['q16', 'float32', { dtype: 'uint16', min: -3.5, scale: 0.25, original_dtype: 'float32' }],
      ['h', 'float32', { dtype: 'float16', original_dtype: 'float32' }],
    ]);
    const bytes = Buffer.concat(shards.map((x) => x.bytes));
    assert.deepEqual([...bytes.subarray(0, 6)], [0, 1, 127, 128, 200, 255], 'the codes are written as given');
    const dir = writeModelDir(manifest, shards);
    const mine = readTfjsWeights(dir, manifest, 'x');
    const ref = await decodeWithTfjs(dir, manifest);
    assert.deepEqual(Array.from(ref.get('q8')!.values as Float32Array), Array.from(u8.data as Uint8Array, (q) => Math.fround((q - 128) * s)));
    assert.deepEqual(Array.from(ref.get('q16')!.values as Float32Array), [-3.5, 9996.5, 16380.25]);
    assert.deepEqual(Array.from(ref.get('h')!.values as Float32Array), [1, -5]);
    for (const n of ['q8', 'q16', 'h', 'w']) assert.deepEqual(Array.from(mine.get(n)!.data as Float32Array), Array.from(ref.get(n)!.values as Float32Array), n);
  });

  it('a pre-quantized entry whose codes do not match its storage dtype, or without min / scale, is refused', () => {
    const u8 = { dtype: 'uint8', shape: [2], data: Uint8Array.of(1, 2) } as Tensor;
    assert.throws(() => encodeTfjsWeights([{ name: 'a', tensor: u8, quantized: { dtype: 'uint16', min: 0, scale: 1 } }]), (e: unknown) => e instanceof MloptError && /"a" is stored as uint16 but its codes are uint8/.test(e.message));
    assert.throws(() => encodeTfjsWeights([{ name: 'b', tensor: u8, quantized: { dtype: 'uint8' } }]), (e: unknown) => e instanceof MloptError && /"b" \(uint8\) needs a finite min and scale/.test(e.message));
  });

  it('wildcards match as fnmatch does', () => {
    const m = (p: string, s: string): boolean => wildcardRegExp(p).test(s);
    assert.ok(m('*', 'a/b/c'));
    assert.ok(m('conv*/kernel', 'conv1/kernel'));
    assert.ok(m('conv*/kernel', 'conv_block/inner/kernel'));
    assert.ok(!m('conv*/kernel', 'conv1/bias'));
    assert.ok(m('dense_?/bias', 'dense_1/bias'));
    assert.ok(!m('dense_?/bias', 'dense_12/bias'));
    assert.ok(m('layer[0-9]/w', 'layer3/w'));
    assert.ok(!m('layer[!0-9]/w', 'layer3/w'));
    assert.ok(m('a.b+c', 'a.b+c'));
    assert.ok(!m('a.b', 'axb'));
  });
});
