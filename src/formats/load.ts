/**
 * Load any supported model into the IR, and save the IR in a chosen format.
 */
import { readFileSync } from 'node:fs';
import type { Graph } from '../ir/graph.js';
import { MloptError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { FORMAT_NAMES, type ModelFormat, detectFormat } from './detect.js';

export interface LoadedModel {
  /** the path given by the user */
  path: string;
  /** the file that holds the model (model.json for a tfjs directory) */
  file: string;
  format: ModelFormat;
  graph: Graph;
  /** bytes on disk (sum of all files for directory formats) */
  fileSize: number;
  /** the file's bytes, for single-file formats (kept so that nothing reads the file twice) */
  bytes?: Uint8Array;
}

/** Formats mlopt can write, and the file extension each gets. */
/** (tfjs: a folder, model.json + weight shards, written by writeModel in write.ts) */
export const WRITABLE: Partial<Record<ModelFormat, string>> = { onnx: '.onnx', tflite: '.tflite', tfjs: '.tfjs' };

export async function loadModel(path: string): Promise<LoadedModel> {
  const { format, path: file } = detectFormat(path);
  switch (format) {
    case 'onnx': {
      const { importOnnxBytes } = await import('./onnx/import.js');
      const bytes = readFileSync(file);
      return { path, file, format, graph: importOnnxBytes(bytes, path), fileSize: bytes.byteLength, bytes };
    }
    case 'keras':
    case 'keras-h5': {
      // (a weights-only .h5 finds its JSON architecture from the path the user gave)
      const { loadKerasFile } = await import('./keras/import.js');
      return { path, file, format, ...(await loadKerasFile(file, format, path)) };
    }
    case 'tflite': {
      const { importTfliteBytes } = await import('./tflite/import.js');
      const bytes = readFileSync(file);
      return { path, file, format, graph: importTfliteBytes(bytes, path), fileSize: bytes.byteLength, bytes };
    }
    case 'tfjs': {
      const { importTfjs, tfjsModelSize } = await import('./tfjs/import.js');
      const graph = await importTfjs(file);
      return { path, file, format, graph, fileSize: tfjsModelSize(file) };
    }
    default:
      throw new MloptError(
        'UNSUPPORTED',
        `${path}: ${FORMAT_NAMES[format]} models cannot be read by this version of mlopt (it reads ONNX, TFLite and Keras)`,
      );
  }
}

/** Serialise `graph` as `format`. */
export async function serializeModel(graph: Graph, format: ModelFormat): Promise<Uint8Array> {
  switch (format) {
    case 'onnx': {
      const { exportOnnxBytes } = await import('./onnx/export.js');
      return exportOnnxBytes(graph);
    }
    case 'tflite': {
      // TFLite has no ops for shape arithmetic on constants: fold them first
      const { foldConstants } = await import('../passes/fold-constants.js');
      const { exportTfliteBytes } = await import('./tflite/export.js');
      return exportTfliteBytes((await foldConstants(graph)).graph);
    }
    default:
      throw new MloptError('UNSUPPORTED', `writing ${FORMAT_NAMES[format]} is not supported by this version of mlopt (it writes ONNX and TFLite)`);
  }
}

export async function saveModel(graph: Graph, format: ModelFormat, outPath: string, opts: { force?: boolean } = {}): Promise<number> {
  const bytes = await serializeModel(graph, format);
  writeFileAtomic(outPath, bytes, opts);
  return bytes.byteLength;
}
