/**
 * mlopt as a library: the typed functions the CLI commands call.
 */
export { loadModel, saveModel, serializeModel, type LoadedModel } from './formats/load.js';
export { detectFormat, type ModelFormat } from './formats/detect.js';
export { inspect, type InspectResult } from './api/inspect.js';
export { convert, type ConvertOptions, type ConvertResult } from './api/convert.js';
export { bench, type BenchApiOptions } from './api/bench.js';
export { type BenchResult, type BenchFailure, type BenchEntry, isBenchFailure } from './bench/run.js';
export { quantize, type QuantizeOptions, type QuantizeResult, type QuantizeMode } from './api/quantize.js';
export { compareModels, type OutputComparison } from './api/compare.js';
export { createRunner, type Runner, type RunnerOptions, type Device } from './runtime/index.js';
export { loadDataset, prepareFeeds, randomFeeds } from './data/index.js';
export { importOnnxBytes } from './formats/onnx/import.js';
export { exportOnnxBytes } from './formats/onnx/export.js';
export * from './ir/index.js';
export { MloptError } from './util/errors.js';
export { IrExecutor, createIrRunner, type ExecutorOptions, type TrainConfig, type FitConfig, type FitResult, type TrainData } from './runtime/ir-executor.js';
export { writeModel, type WriteOptions } from './formats/write.js';
export { prune, type PruneOptions, type PruneResult } from './api/prune.js';
