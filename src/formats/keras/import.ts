/**
 * Keras files → IR: legacy HDF5 `.h5` (Keras 2 / tf-keras: `model_config` + `model_weights`,
 * whatever the file's extension), Keras 3 `.keras` (zip of `config.json` + `model.weights.h5`),
 * and weights-only `.h5` (`save_weights`) paired with a Keras JSON architecture
 * (`model.to_json()`) beside it.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { unzipSync } from 'fflate';
import type { Graph } from '../../ir/graph.js';
import { MloptError } from '../../util/errors.js';
import { isKerasArchitectureJson, kerasArchitecturesIn } from '../detect.js';
import { buildKerasGraph } from './build.js';
import { attrString, openH5 } from './h5.js';
import { keras3Source, legacyH5Source, weightsOnlyH5Source } from './sources.js';
import type { KerasJson } from './types.js';

export { KERAS_IMPORT_OPSET } from './build.js';

function parseJson(text: string, what: string): KerasJson {
  try {
    return JSON.parse(text) as KerasJson;
  } catch (e) {
    throw new MloptError('CORRUPT_MODEL', `${what} is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

/**
 * Import a Keras model from its bytes. `architecture` is the Keras JSON architecture
 * (`model.to_json()`) that a weights-only .h5 needs.
 */
export interface KerasArchitecture {
  json: string;
  source: string;
}

export async function importKeras(
  bytes: Uint8Array, format: 'keras' | 'keras-h5', source = 'model',
  architecture?: KerasArchitecture | (() => KerasArchitecture | undefined),
): Promise<Graph> {
  if (format === 'keras') return importKeras3(bytes, source);
  const { file, close } = await openH5(bytes, source);
  try {
    const meta = { kerasVersion: attrString(file, 'keras_version'), backend: attrString(file, 'backend') };
    const clean = { ...(meta.kerasVersion ? { kerasVersion: meta.kerasVersion } : {}), ...(meta.backend ? { backend: meta.backend } : {}) };
    const mc = attrString(file, 'model_config');
    if (mc !== undefined) return buildKerasGraph(parseJson(mc, `${source}: model_config`), legacyH5Source(file, 'model_weights/', source), source, clean);
    if (!file.attrs.layer_names) throw new MloptError('NOT_A_MODEL', `${source}: an HDF5 file without a Keras model (no model_config, no layer weights)`);
    const arch0 = typeof architecture === 'function' ? architecture() : architecture;
    if (!arch0) {
      throw new MloptError('UNSUPPORTED', `${source}: this .h5 holds weights only (saved with save_weights), not the architecture`, 'put the Keras JSON architecture (model.to_json()) beside it and pass the folder or the JSON file, or save the whole model (model.save("m.h5"))');
    }
    const arch = parseJson(arch0.json, arch0.source);
    const modelConfig: KerasJson = { class_name: arch.class_name, config: arch.config };
    const version = (arch.keras_version as string | undefined) ?? meta.kerasVersion;
    const backend = (arch.backend as string | undefined) ?? meta.backend;
    return buildKerasGraph(modelConfig, weightsOnlyH5Source(file, modelConfig, source), source, { ...(version ? { kerasVersion: version } : {}), ...(backend ? { backend } : {}) });
  } finally {
    close();
  }
}

async function importKeras3(bytes: Uint8Array, source: string): Promise<Graph> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, { filter: (f) => f.name === 'config.json' || f.name === 'model.weights.h5' || f.name === 'metadata.json' });
  } catch (e) {
    throw new MloptError('CORRUPT_MODEL', `${source}: not a readable .keras zip (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!files['config.json'] || !files['model.weights.h5']) throw new MloptError('CORRUPT_MODEL', `${source}: a .keras file needs config.json and model.weights.h5`);
  const dec = new TextDecoder();
  const config = parseJson(dec.decode(files['config.json']), `${source}: config.json`);
  const metadata = files['metadata.json'] ? parseJson(dec.decode(files['metadata.json']), `${source}: metadata.json`) : {};
  const version = metadata.keras_version as string | undefined;
  const { file, close } = await openH5(files['model.weights.h5'], `${source}: model.weights.h5`);
  try {
    return buildKerasGraph(config, keras3Source(file, source), source, version ? { kerasVersion: version } : {});
  } finally {
    close();
  }
}

/**
 * Load a Keras model from disk. `file` is the model file detect.ts chose (the .h5 of a weights +
 * architecture pair); `userPath` the path the user gave (a file, the pair's folder, or its
 * JSON architecture), which says where the architecture of a weights-only .h5 is.
 */
export async function loadKerasFile(file: string, format: 'keras' | 'keras-h5', userPath: string): Promise<{ graph: Graph; fileSize: number; bytes: Uint8Array }> {
  const bytes = readFileSync(file);
  let extraSize = 0;
  // looked for only when the .h5 turns out to hold weights only
  const architecture = (): KerasArchitecture | undefined => {
    const archFile = architectureFor(file, userPath);
    if (!archFile) return undefined;
    extraSize = statSync(archFile).size;
    return { json: readFileSync(archFile, 'utf8'), source: archFile };
  };
  const graph = await importKeras(bytes, format, userPath, architecture);
  return { graph, fileSize: bytes.byteLength + extraSize, bytes };
}

/** The Keras JSON architecture for `file`: the one the user named, else the only one beside the .h5. */
function architectureFor(file: string, userPath: string): string | undefined {
  if (userPath !== file && statSync(userPath).isFile() && isKerasArchitectureJson(userPath)) return userPath;
  const found = kerasArchitecturesIn(dirname(file));
  if (found.length > 1) {
    throw new MloptError('UNSUPPORTED', `${userPath}: this .h5 holds weights only, and several Keras JSON architectures lie beside it (${found.map((f) => basename(f)).join(', ')})`, 'pass the JSON architecture that belongs to these weights');
  }
  return found[0];
}
