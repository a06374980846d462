export { NPY_MAGIC, isNpy, parseNpy, writeNpy, transposeData, byteSwapInPlace, toFloat16Bits } from './npy.js';
export { isZip, parseNpz, writeNpz, type WriteNpzOptions } from './npz.js';
export { isGzip, isIdx, gunzip, parseIdx, labelsCandidates, findLabelsFile } from './idx.js';
export {
  type Dataset, type PrepareOptions, type Batch, type PreparedData,
  LABELS_KEY, loadDataset, makeDataset, toLabels, argmaxRows, prepareFeeds, randomFeeds,
} from './dataset.js';
