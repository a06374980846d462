import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { quantize } from '../../src/api/quantize.js';
import { MloptError } from '../../src/util/errors.js';
import { CORPUS_SKIP, corpusOnnx, tempDir } from '../helpers.js';

// Every ONNX file of ../shared/corpus either quantizes with --dynamic to a model that runs in
// onnxruntime (quantize() runs and measures it before writing), or fails with a clear
// one-line message naming what is unsupported.
describe('quantize --dynamic on the shared ONNX corpus', { skip: CORPUS_SKIP }, () => {
  for (const file of corpusOnnx()) {
    it(file.split('/corpus/')[1]!, async () => {
      const out = join(tempDir(), 'q.onnx');
      try {
        const r = await quantize(file, { mode: 'dynamic', output: out, runs: 1, warmup: 0, batch: 1 });
        assert.ok(r.quantizedNodes.length > 0);
        assert.ok(r.quantized.bytes < r.float.bytes, 'smaller than the float model');
      } catch (err) {
        assert.ok(err instanceof MloptError, `not a clear error: ${String(err)}`);
        assert.equal(err.code, 'UNSUPPORTED', err.message);
        assert.ok(!err.message.includes('\n'));
        assert.match(err.message, /opset|nothing to quantize|already quantized|not supported|cannot/);
      }
    });
  }
});
