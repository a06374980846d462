export * from './dtype.js';
export * from './tensor.js';
export * from './graph.js';
export * from './ops/index.js';
export { validateGraph, assertValid, type ValidationIssue } from './validate.js';
export { summarize, type GraphSummary } from './summary.js';
