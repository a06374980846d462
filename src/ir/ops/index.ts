export * from './types.js';
export * from './dims.js';
export * from './dtype-codes.js';
export * from './versions.js';
export * from './context.js';
export * from './catalogue.js';
export * from './engine.js';
export { constantTensor } from './generator.js';
