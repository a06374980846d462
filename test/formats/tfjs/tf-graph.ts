/**
 * Small TF.js graph models written by hand (GraphDef JSON + weights) for the op-mapping tests:
 * tfjs-converter runs them as the reference.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../../../src/ir/tensor.js';
import type { TfAttrValue, TfNodeDef } from '../../../src/formats/tfjs/graphdef.js';
import { encodeTfjsWeights } from '../../../src/formats/tfjs/weights.js';
import { tempDir } from '../../helpers.js';

export const T = (t = 'DT_FLOAT'): TfAttrValue => ({ type: t });
export const I = (v: number): TfAttrValue => ({ i: String(v) });
export const F = (v: number): TfAttrValue => ({ f: v });
export const B = (v: boolean): TfAttrValue => ({ b: v });
export const S = (v: string): TfAttrValue => ({ s: Buffer.from(v).toString('base64') });
export const IL = (...v: number[]): TfAttrValue => ({ list: { i: v.map(String) } });
export const SL = (...v: string[]): TfAttrValue => ({ list: { s: v.map((x) => Buffer.from(x).toString('base64')) } });

/** Deterministic pseudo-random floats in [-1, 1). */
export function noise(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

export class GraphBuilder {
  readonly nodes: TfNodeDef[] = [];
  readonly consts: Array<{ name: string; tensor: Tensor }> = [];
  readonly inputs: Array<{ name: string; shape: number[]; dtype: string }> = [];
  private seed = 1;

  placeholder(name: string, shape: number[], dtype = 'DT_FLOAT'): string {
    this.nodes.push({ name, op: 'Placeholder', attr: { dtype: T(dtype), shape: { shape: { dim: shape.map((d) => ({ size: String(d) })) } } } });
    this.inputs.push({ name, shape, dtype });
    return name;
  }
  /** A float constant of random values (or the given ones). */
  f32(name: string, shape: number[], values?: number[], scale = 1): string {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = values ? Float32Array.from(values) : noise(n, this.seed++).map((v) => v * scale);
    return this.constant(name, { dtype: 'float32', shape, data });
  }
  i32(name: string, values: number[], shape = [values.length]): string {
    return this.constant(name, { dtype: 'int32', shape, data: Int32Array.from(values) });
  }
  constant(name: string, tensor: Tensor): string {
    const dt = { float32: 'DT_FLOAT', int32: 'DT_INT32', bool: 'DT_BOOL' }[tensor.dtype as string] ?? 'DT_FLOAT';
    this.nodes.push({ name, op: 'Const', attr: { dtype: T(dt), value: { tensor: { dtype: dt, tensorShape: { dim: tensor.shape.map((d) => ({ size: String(d) })) } } } } });
    this.consts.push({ name, tensor });
    return name;
  }
  op(name: string, op: string, input: string[], attr: Record<string, TfAttrValue> = {}): string {
    this.nodes.push({ name, op, input, attr: { T: T(), ...attr } });
    return name;
  }

  /** Write model.json + shard; `outputs` are tensor names ('x', 'x:1'). */
  write(outputs: string[]): string {
    const dir = tempDir('mlopt-tfjs-graph-');
    const { manifest, shards } = encodeTfjsWeights(this.consts);
    for (const s of shards) writeFileSync(join(dir, s.path), s.bytes);
    const sig = (name: string) => ({ name: name.includes(':') ? name : `${name}:0`, dtype: 'DT_FLOAT' });
    const json = {
      format: 'graph-model',
      generatedBy: 'mlopt test',
      convertedBy: null,
      signature: {
        inputs: Object.fromEntries(this.inputs.map((x) => [x.name, { ...sig(x.name), dtype: x.dtype, tensorShape: { dim: x.shape.map((d) => ({ size: String(d) })) } }])),
        outputs: Object.fromEntries(outputs.map((o, k) => [`out${k}`, sig(o)])),
      },
      modelTopology: { node: this.nodes, library: {}, versions: { producer: 1 } },
      weightsManifest: manifest,
    };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    return join(dir, 'model.json');
  }
}
