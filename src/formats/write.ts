/**
 * Write the IR in a chosen format, as a file (ONNX, TFLite) or a folder (TF.js: model.json +
 * weight shards). Both are written atomically (temporary name, then rename).
 */
import type { Graph } from '../ir/graph.js';
import { writeDirAtomic, writeFileAtomic } from '../util/fs.js';
import type { ModelFormat } from './detect.js';
import { serializeModel } from './load.js';

export type TfjsQuantizeDtype = 'float16' | 'uint8' | 'uint16';

export interface WriteOptions {
  force?: boolean;
  /** paths that must never be written over */
  inputs?: string[];
  tfjs?: {
    /** graph model (any graph) or layers model (Keras sources); default: layers when the graph came from Keras */
    format?: 'graph' | 'layers';
    quantize?: { dtype: TfjsQuantizeDtype; patterns?: string[] };
    shardSizeBytes?: number;
  };
}

export interface Written {
  /** total bytes written (all files of a folder format) */
  bytes: number;
  /** the files, relative to the output path, for folder formats */
  files?: string[];
  /** what the writer decided that the user should know (e.g. a graph model instead of a layers model) */
  notes: string[];
}

export async function writeModel(graph: Graph, format: ModelFormat, outPath: string, opts: WriteOptions = {}): Promise<Written> {
  if (format === 'tfjs') {
    const { exportTfjs } = await import('./tfjs/export.js');
    const notes: string[] = [];
    const files = exportTfjs(graph, { ...opts.tfjs, onNote: (m) => notes.push(m) });
    writeDirAtomic(outPath, files, { force: opts.force, inputs: opts.inputs });
    return { bytes: files.reduce((n, f) => n + f.bytes.byteLength, 0), files: files.map((f) => f.path), notes };
  }
  const bytes = await serializeModel(graph, format);
  writeFileAtomic(outPath, bytes, { force: opts.force, inputs: opts.inputs });
  return { bytes: bytes.byteLength, notes: [] };
}

/** Parse a size such as 4194304, 4MB, 4M, 512KB, 1.5MiB into bytes. */
export function parseByteSize(s: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib)?\s*$/i.exec(s);
  if (!m) return undefined;
  const unit = (m[2] ?? 'b').toLowerCase();
  const mul = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 * 1024 : 1;
  const n = Math.round(Number(m[1]) * mul);
  return n > 0 ? n : undefined;
}
