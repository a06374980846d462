export { buildKerasGraph, KERAS_IMPORT_OPSET, type KerasBuildMeta } from './build.js';
export { importKeras, loadKerasFile, type KerasArchitecture } from './import.js';
export { supportedLayerClasses } from './layers/index.js';
export type { KerasExtra, KerasJson, KerasScope, KerasWeightInfo, KerasWeightSource } from './types.js';
