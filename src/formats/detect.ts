/**
 * Sniff what a path holds, by magic bytes and structure — never by extension alone.
 */
import { closeSync, openSync, readFileSync, readSync, statSync, existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MloptError } from '../util/errors.js';

export type ModelFormat = 'onnx' | 'tflite' | 'keras-h5' | 'keras' | 'savedmodel' | 'tfjs';

export const FORMAT_NAMES: Record<ModelFormat, string> = {
  onnx: 'ONNX',
  tflite: 'TFLite flatbuffer',
  'keras-h5': 'Keras HDF5 (.h5)',
  keras: 'Keras 3 (.keras)',
  savedmodel: 'TensorFlow SavedModel',
  tfjs: 'TensorFlow.js (model.json)',
};

/**
 * Resolve a user path to the model file/directory and its format. A Keras weights-only .h5
 * with its JSON architecture (`model.to_json()`) is 'keras-h5' with the .h5 as path, whether
 * the user names the folder, the JSON or the .h5 (the Keras loader finds the JSON again).
 */
export function detectFormat(path: string): { format: ModelFormat; path: string } {
  if (!existsSync(path)) throw new MloptError('FILE_NOT_FOUND', `${path}: no such file or directory`);
  const st = statSync(path);
  if (st.isDirectory()) {
    const entries = new Set(readdirSync(path));
    if (entries.has('saved_model.pb') || entries.has('saved_model.pbtxt')) return { format: 'savedmodel', path };
    const modelJson = join(path, 'model.json');
    if (entries.has('model.json') && !isKerasArchitectureJson(modelJson)) return { format: 'tfjs', path: modelJson };
    const h5 = hdf5FilesIn(path);
    if (h5.length === 1 && kerasArchitecturesIn(path).length) return { format: 'keras-h5', path: h5[0]! };
    throw new MloptError('NOT_A_MODEL', `${path}: directory holds no model (expected saved_model.pb, model.json, or one Keras weights .h5 with its JSON architecture)`);
  }
  if (st.size === 0) throw new MloptError('NOT_A_MODEL', `${path}: file is empty`);
  const head = readHead(path, 64);
  if (head.length >= 8 && String.fromCharCode(...head.subarray(4, 8)) === 'TFL3') return { format: 'tflite', path };
  if (startsWith(head, HDF5_MAGIC)) return { format: 'keras-h5', path };
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) return { format: 'keras', path };
  const text = String.fromCharCode(...head).trimStart();
  if (text.startsWith('{')) {
    if (!isKerasArchitectureJson(path)) return { format: 'tfjs', path };
    const h5 = hdf5FilesIn(dirname(path));
    if (h5.length === 1) return { format: 'keras-h5', path: h5[0]! };
    throw new MloptError('NOT_A_MODEL', h5.length
      ? `${path}: a Keras JSON architecture with several .h5 files beside it (${h5.length}): cannot tell which holds its weights`
      : `${path}: a Keras JSON architecture (model.to_json()) holds no weights, and no .h5 weights file lies beside it`,
    'put it in a folder with the one .h5 its weights were saved to (model.save_weights)');
  }
  const onnx = sniffOnnx(path, st.size);
  if (onnx === 'onnx') return { format: 'onnx', path };
  if (onnx === 'truncated') {
    throw new MloptError('CORRUPT_MODEL', `${path}: not a valid ONNX model (the file is truncated: a ModelProto field runs past its end at ${st.size} bytes)`);
  }
  throw new MloptError(
    'NOT_A_MODEL',
    `${path}: not a model file mlopt recognises (ONNX, TFLite, Keras .h5/.keras, SavedModel directory, TF.js model.json)`,
  );
}

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** A Keras JSON architecture (model.to_json(): {class_name, config, keras_version...}), not a
 *  TF.js model.json (which has modelTopology / weightsManifest). */
export function isKerasArchitectureJson(file: string): boolean {
  try {
    const st = statSync(file);
    if (!st.isFile() || st.size > 256 * 1024 * 1024) return false;
    if (String.fromCharCode(...readHead(file, 64)).trimStart()[0] !== '{') return false;
    const j = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    return typeof j.class_name === 'string' && typeof j.config === 'object' && j.config !== null && !('modelTopology' in j) && !('weightsManifest' in j);
  } catch {
    return false;
  }
}

/** The Keras JSON architectures (*.json) of a directory, sorted. */
export function kerasArchitecturesIn(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.toLowerCase().endsWith('.json')).map((f) => join(dir, f)).filter(isKerasArchitectureJson).sort();
}

/** HDF5 files (by magic) of a directory, sorted. */
function hdf5FilesIn(dir: string): string[] {
  return readdirSync(dir).map((f) => join(dir, f)).filter((f) => {
    try {
      return statSync(f).isFile() && startsWith(readHead(f, 8), HDF5_MAGIC);
    } catch {
      return false;
    }
  }).sort();
}

function readHead(path: string, n: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const buf = new Uint8Array(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

function startsWith(b: Uint8Array, magic: number[]): boolean {
  return magic.every((m, i) => b[i] === m);
}

/** ModelProto field numbers and their wire types (0 varint, 2 length-delimited). */
const MODEL_FIELDS: Record<number, number> = { 1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 21: 2, 25: 2, 26: 2 };

/**
 * Walk the top-level protobuf fields of the file without decoding them: an ONNX model is a
 * sequence of ModelProto fields of the right wire types that fills the file exactly and
 * contains a graph (field 7). A file whose fields are all well-formed ModelProto fields but
 * whose last one runs past the end, after a plausible start (ir_version first), is a
 * truncated ONNX file.
 */
function sniffOnnx(path: string, size: number): 'onnx' | 'truncated' | 'no' {
  const fd = openSync(path, 'r');
  try {
    const buf = new Uint8Array(16);
    let pos = 0;
    let sawGraph = false;
    let firstField = 0;
    const cut = (): 'truncated' | 'no' => (firstField === 1 ? 'truncated' : 'no');
    for (let fields = 0; pos < size && fields < 1_000_000; fields++) {
      const got = readSync(fd, buf, 0, 16, pos);
      let p = 0;
      const readVarint = (): number => {
        let result = 0;
        let mul = 1;
        for (;;) {
          if (p >= got) return -1;
          const b = buf[p++] as number;
          result += (b & 0x7f) * mul;
          if (b < 0x80) return result;
          mul *= 128;
          if (mul > 2 ** 63) return -1;
        }
      };
      const tag = readVarint();
      if (tag < 0) return 'no';
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (MODEL_FIELDS[field] !== wire) return 'no';
      if (fields === 0) firstField = field;
      if (wire === 0) {
        if (readVarint() < 0) return pos + p >= size - 10 ? cut() : 'no';
        pos += p;
      } else {
        const len = readVarint();
        if (len < 0) return 'no';
        pos += p + len;
        if (pos > size) return cut();
        if (field === 7) sawGraph = true;
      }
    }
    if (pos === size && sawGraph) return 'onnx';
    return pos === size && firstField === 1 ? 'truncated' : 'no';
  } finally {
    closeSync(fd);
  }
}
