export * from './dtype.js';
export * from './tensor.js';
export * from './graph.js';
