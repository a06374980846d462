export { type PruningSchedule, DEFAULT_FREQUENCY, DEFAULT_POWER, scheduleAt, validateSchedule } from './schedule.js';
export { type PrunableWeight, type SelectOptions, type Selection, PRUNABLE_OPS, findPrunable } from './select.js';
export { type Granularity, parseGranularity, computeMasks, verifyNM, incompatibleLayers, keepCount, kthLargest } from './masks.js';
