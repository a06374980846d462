/**
 * Bad Keras inputs through the CLI: exit code 1, one `mlopt: ...` line (plus a hint), no stack
 * trace, nothing written. Needs dist/ (npx tsc -p tsconfig.json).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FIXTURES, runCli, tempDir } from '../../helpers.js';

const model = (m: string) => join(FIXTURES, 'models', m);

function assertCleanFailure(r: { code: number; stdout: string; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 1, `exit code; stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.ok(lines.length <= 2, `at most message + hint, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^mlopt: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

/** inspect fails cleanly, and convert fails the same way without writing anything. */
function assertRejected(input: string, pattern: RegExp): void {
  assertCleanFailure(runCli(['inspect', input]), pattern);
  const out = tempDir();
  assertCleanFailure(runCli(['convert', input, '--to', 'onnx', '-o', join(out, 'out.onnx')]), pattern);
  assert.deepEqual(readdirSync(out), [], 'nothing written');
}

describe('bad Keras inputs (CLI)', () => {
  it('a weights-only .h5 without its architecture says so and what to do', () => {
    const dir = tempDir();
    copyFileSync(model('keras_zoo_weights_only/weights.h5'), join(dir, 'weights.h5'));
    assertRejected(join(dir, 'weights.h5'), /weights\.h5: this \.h5 holds weights only/);
    const r = runCli(['inspect', join(dir, 'weights.h5')]);
    assert.match(r.stderr, /model\.to_json\(\)/, 'the hint names the architecture JSON');
  });

  it('a Keras file with a custom layer names the class and the layer', () => {
    const r = runCli(['inspect', model('keras_zoo_custom_layer.h5')]);
    assertCleanFailure(r, /Keras layer class TimesTwo \(layer "times_two"\) is not supported/);
    assert.match(r.stderr, /custom layers cannot be loaded/);
    assertRejected(model('keras_zoo_custom_layer.h5'), /TimesTwo/);
  });

  it('a corrupt .keras zip', () => {
    const dir = tempDir();
    const bytes = readFileSync(model('keras_zoo_seq.keras'));
    const bad = join(dir, 'cut.keras');
    writeFileSync(bad, bytes.subarray(0, Math.floor(bytes.length / 2)));
    assertRejected(bad, /cut\.keras: not a readable \.keras zip/);
    assert.deepEqual(readdirSync(dir), ['cut.keras'], 'the input is left alone');
  });

  it('a Keras JSON architecture without weights beside it', () => {
    const dir = tempDir();
    copyFileSync(model('keras_zoo_weights_only/model.json'), join(dir, 'arch.json'));
    assertRejected(join(dir, 'arch.json'), /arch\.json: a Keras JSON architecture .* no \.h5 weights file lies beside it/);
  });

  it('a weights-only .h5 beside two architectures asks which', () => {
    const dir = tempDir();
    for (const f of ['weights.h5', 'model.json']) copyFileSync(model(`keras_zoo_weights_only/${f}`), join(dir, f));
    copyFileSync(model('keras_zoo_weights_only/model.json'), join(dir, 'other.json'));
    assertRejected(join(dir, 'weights.h5'), /holds weights only, and several Keras JSON architectures lie beside it \(model\.json, other\.json\)/);
    // naming the JSON settles it
    assert.equal(runCli(['inspect', join(dir, 'other.json')]).code, 0);
  });

  it('a weights file that does not fit the architecture', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'pair'));
    copyFileSync(model('keras_zoo_weights_only/weights.h5'), join(dir, 'pair', 'weights.h5'));
    const arch = JSON.parse(readFileSync(model('keras_zoo_weights_only/model.json'), 'utf8')) as { config: { layers: Array<{ config: { name: string } }> } };
    arch.config.layers = arch.config.layers.filter((l) => l.config.name !== 'bn'); // one weighted layer fewer, names kept
    for (const l of arch.config.layers) if (l.config.name === 'out') Object.assign(l, { inbound_nodes: [[['hidden', 0, 0, {}]]] });
    writeFileSync(join(dir, 'pair', 'model.json'), JSON.stringify(arch));
    // paired by name: bn's weights are simply unused; renamed layers pair by order and must match in number
    assert.equal(runCli(['inspect', join(dir, 'pair')]).code, 0);
    for (const l of arch.config.layers) l.config.name = `x_${l.config.name}`;
    for (const l of arch.config.layers as Array<Record<string, unknown>>) {
      if (Array.isArray(l.inbound_nodes)) l.inbound_nodes = JSON.parse(JSON.stringify(l.inbound_nodes).replace(/"(\w+)",/g, '"x_$1",'));
      if (typeof l.name === 'string') l.name = `x_${l.name}`;
    }
    const cfg = arch.config as unknown as Record<string, unknown[][]>;
    cfg.input_layers = [['x_x', 0, 0]];
    cfg.output_layers = [['x_out', 0, 0]];
    writeFileSync(join(dir, 'pair', 'model.json'), JSON.stringify(arch));
    assertRejected(join(dir, 'pair'), /the weights file has 3 layers with weights but the architecture has 2/);
  });
});
