/**
 * TensorFlow.js model folder (model.json + weight shards) → IR.
 *
 * model.json holds either a graph model (`format: 'graph-model'`, modelTopology = a TF
 * GraphDef; graph-model.ts maps its ops) or a layers model (`format: 'layers-model'`, or an old
 * file without `format` whose modelTopology is a Keras model config, bare or under
 * `model_config`; the Keras graph builder maps its layers, fed by layers-model.ts). Weights are
 * decoded by weights.ts exactly as tfjs decodes them.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Graph } from '../../ir/graph.js';
import type { Tensor } from '../../ir/tensor.js';
import { MloptError } from '../../util/errors.js';
import type { KerasJson } from '../keras/types.js';
import type { TfGraphDef } from './graphdef.js';
import { TFJS_IMPORT_OPSET, type TfSignature, importGraphModel } from './graph-model.js';
import { kerasModelConfig, tfjsKerasWeightSource } from './layers-model.js';
import { type TfjsWeightsManifestGroup, readTfjsWeights } from './weights.js';

export interface TfjsModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology?: unknown;
  weightsManifest?: TfjsWeightsManifestGroup[];
  signature?: TfSignature;
  userDefinedMetadata?: { signature?: TfSignature; [k: string]: unknown };
  [k: string]: unknown;
}

/** Parse model.json: FILE_NOT_FOUND, CORRUPT_MODEL (not JSON) or NOT_A_MODEL (no topology) otherwise. */
export function readModelJson(modelJsonPath: string): TfjsModelJson {
  if (!existsSync(modelJsonPath)) throw new MloptError('FILE_NOT_FOUND', `${modelJsonPath}: no such file`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(modelJsonPath, 'utf8'));
  } catch (err) {
    throw new MloptError('CORRUPT_MODEL', `${modelJsonPath}: not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new MloptError('NOT_A_MODEL', `${modelJsonPath}: not a TF.js model.json (expected a JSON object)`);
  const m = json as TfjsModelJson;
  if (!m.modelTopology || typeof m.modelTopology !== 'object') throw new MloptError('NOT_A_MODEL', `${modelJsonPath}: no modelTopology; not a TF.js model.json`);
  if (m.weightsManifest !== undefined && !Array.isArray(m.weightsManifest)) throw new MloptError('CORRUPT_MODEL', `${modelJsonPath}: weightsManifest is not a list`);
  return m;
}

/** True for a graph model (a GraphDef topology), false for a layers model. */
export function isGraphModel(json: TfjsModelJson): boolean {
  if (json.format === 'graph-model') return true;
  if (json.format === 'layers-model') return false;
  return Array.isArray((json.modelTopology as { node?: unknown }).node);
}

/** model.json and every shard it names (for sizes). */
export function tfjsModelFiles(modelJsonPath: string): string[] {
  const json = readModelJson(modelJsonPath);
  const dir = dirname(modelJsonPath);
  return [modelJsonPath, ...(json.weightsManifest ?? []).flatMap((g) => (g.paths ?? []).map((p) => join(dir, p)))];
}

/** Bytes on disk of model.json and its shards. */
export function tfjsModelSize(modelJsonPath: string): number {
  return tfjsModelFiles(modelJsonPath).reduce((n, f) => n + (existsSync(f) ? statSync(f).size : 0), 0);
}

export async function importTfjs(modelJsonPath: string): Promise<Graph> {
  const json = readModelJson(modelJsonPath);
  const source = modelJsonPath;
  const manifest = json.weightsManifest ?? [];
  const weights: Map<string, Tensor> = readTfjsWeights(dirname(modelJsonPath), manifest, source);
  let g: Graph;
  if (isGraphModel(json)) {
    const signature = json.userDefinedMetadata?.signature ?? json.signature;
    g = importGraphModel(json.modelTopology as TfGraphDef, weights, signature, source);
    g.metadata = { ...g.metadata, opsets: [{ domain: '', version: TFJS_IMPORT_OPSET }] };
    g.extra = { ...g.extra, tfjs: { format: 'graph-model', signature: json.signature, userDefinedMetadata: json.userDefinedMetadata, versions: (json.modelTopology as TfGraphDef).versions } };
  } else {
    const { modelConfig, kerasVersion, backend } = kerasModelConfig(json.modelTopology as KerasJson, source);
    const src = tfjsKerasWeightSource(modelConfig, manifest, weights, source);
    // the Keras graph builder is loaded only for layers models
    const { buildKerasGraph } = await import('../keras/index.js');
    g = buildKerasGraph(modelConfig, src, source, { ...(kerasVersion ? { kerasVersion } : {}), ...(backend ? { backend } : {}) });
    const left = src.unused();
    if (left.length) {
      throw new MloptError('CORRUPT_MODEL', `${source}: ${left.length} weight(s) of the manifest belong to no layer of the model (first: "${left[0]}")`);
    }
    const extra = g.extra?.keras as Record<string, unknown> | undefined;
    if (extra) {
      if (kerasVersion && extra.kerasVersion === undefined) extra.kerasVersion = kerasVersion;
      if (backend && extra.backend === undefined) extra.backend = backend;
    }
    g.extra = { ...g.extra, tfjs: { format: 'layers-model', userDefinedMetadata: json.userDefinedMetadata, trainingConfig: (json.modelTopology as KerasJson).training_config ?? json.trainingConfig } };
  }
  const props: Record<string, string> = { ...g.metadata.props, 'tfjs.format': isGraphModel(json) ? 'graph-model' : 'layers-model' };
  if (typeof json.generatedBy === 'string') props['tfjs.generatedBy'] = json.generatedBy;
  if (typeof json.convertedBy === 'string') props['tfjs.convertedBy'] = json.convertedBy;
  const quant = [...new Set(manifest.flatMap((gr) => gr.weights.map((w) => w.quantization?.dtype).filter((d): d is NonNullable<typeof d> => !!d)))];
  if (quant.length) props['tfjs.weightQuantization'] = quant.join(',');
  g.metadata = {
    ...g.metadata,
    sourceFormat: 'tfjs',
    ...(json.convertedBy || json.generatedBy ? { producerName: (json.convertedBy ?? json.generatedBy) as string } : {}),
    props,
  };
  return g;
}
