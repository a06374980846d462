import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeDirAtomic } from '../../src/util/fs.js';
import { parseByteSize } from '../../src/formats/write.js';
import { CNN_ONNX, runCli, tempDir } from '../helpers.js';

test('TF.js-only convert options are refused without --to tfjs, and bad values are usage errors', () => {
  const dir = tempDir();
  const cases: Array<[string[], RegExp]> = [
    [['--quantize', 'uint8'], /--quantize goes with --to tfjs/],
    [['--to', 'onnx', '--tfjs-format', 'graph', '--weight-shard-size', '1MB'], /--tfjs-format, --weight-shard-size go with --to tfjs/],
    [['--to', 'tfjs', '--quantize', 'int4'], /--quantize must be one of float16, uint8, uint16/],
    [['--to', 'tfjs', '--tfjs-format', 'saved'], /--tfjs-format must be graph or layers/],
    [['--to', 'tfjs', '--weight-shard-size', 'lots'], /--weight-shard-size must be a size/],
    [['--to', 'tfjs', '--quantize-weights', 'conv*'], /--quantize-weights needs --quantize/],
    [['--to', 'tfjs', '--int8'], /--int8 does not apply to --to tfjs/],
  ];
  for (const [args, msg] of cases) {
    const r = runCli(['convert', CNN_ONNX, ...args, '-o', join(dir, 'out')]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
  }
  assert.deepEqual(readdirSync(dir), [], 'nothing written');
});

test('parseByteSize reads bytes, KB and MB', () => {
  assert.equal(parseByteSize('4194304'), 4194304);
  assert.equal(parseByteSize('4MB'), 4 * 1024 * 1024);
  assert.equal(parseByteSize('512kb'), 512 * 1024);
  assert.equal(parseByteSize('1.5MiB'), 1572864);
  assert.equal(parseByteSize('0'), undefined);
  assert.equal(parseByteSize('-1'), undefined);
  assert.equal(parseByteSize('4 GB'), undefined);
});

test('writeDirAtomic: writes a folder, refuses to overwrite without force, replaces with force, never writes over an input', () => {
  const dir = tempDir();
  const out = join(dir, 'web_model');
  writeDirAtomic(out, [{ path: 'model.json', bytes: Buffer.from('{"a":1}') }, { path: 'group1-shard1of1.bin', bytes: new Uint8Array(8) }]);
  assert.deepEqual(readdirSync(out).sort(), ['group1-shard1of1.bin', 'model.json']);
  assert.throws(() => writeDirAtomic(out, [{ path: 'model.json', bytes: Buffer.from('{}') }]), /already exists/);
  writeDirAtomic(out, [{ path: 'model.json', bytes: Buffer.from('{"b":2}') }], { force: true });
  assert.deepEqual(readdirSync(out), ['model.json'], 'the old folder is replaced, not merged');
  assert.equal(readFileSync(join(out, 'model.json'), 'utf8'), '{"b":2}');
  // an input inside the output folder
  const inputDir = join(dir, 'in');
  mkdirSync(inputDir);
  writeFileSync(join(inputDir, 'model.json'), '{}');
  assert.throws(() => writeDirAtomic(inputDir, [], { force: true, inputs: [join(inputDir, 'model.json')] }), /refusing to write over the input/);
  assert.ok(existsSync(join(inputDir, 'model.json')));
  // a file path escaping the folder
  assert.throws(() => writeDirAtomic(join(dir, 'x'), [{ path: '../evil', bytes: new Uint8Array(1) }]), /outside the output folder/);
  assert.ok(!existsSync(join(dir, 'evil')) && !existsSync(join(dir, 'x')));
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.')), [], 'no temporary folder left');
});
