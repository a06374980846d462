/** Detection and sampling ops: NonMaxSuppression, RoiAlign, GridSample. */
import type { Dim } from '../tensor.js';
import { UNKNOWN_DIM } from './dims.js';
import type { OpDef } from './types.js';

export const DETECTION_OPS: OpDef[] = [
  {
    name: 'NonMaxSuppression', category: 'nn', since: 10,
    inputs: [
      { name: 'boxes' }, { name: 'scores' }, { name: 'max_output_boxes_per_class', optional: true },
      { name: 'iou_threshold', optional: true }, { name: 'score_threshold', optional: true },
    ],
    outputs: [{ name: 'selected_indices' }],
    attrs: { center_point_box: { type: 'int', default: 0 } },
    infer: () => [{ dtype: 'int64', shape: [UNKNOWN_DIM, 3] }],
  },
  {
    name: 'RoiAlign', category: 'nn', since: 10, layoutSensitive: true,
    inputs: [{ name: 'X' }, { name: 'rois' }, { name: 'batch_indices' }], outputs: [{ name: 'Y' }],
    attrs: {
      coordinate_transformation_mode: { type: 'string', default: 'half_pixel', since: 16 },
      mode: { type: 'string', default: 'avg' },
      output_height: { type: 'int', default: 1 },
      output_width: { type: 'int', default: 1 },
      sampling_ratio: { type: 'int', default: 0 },
      spatial_scale: { type: 'float', default: 1 },
    },
    infer: (ctx) => {
      const x = ctx.shape(0);
      const rois: Dim = ctx.shape(1)?.[0] ?? UNKNOWN_DIM;
      const h = ctx.int('output_height', 1);
      const w = ctx.int('output_width', 1);
      const c: Dim = x ? (x[ctx.layout === 'NHWC' ? 3 : 1] as Dim) : UNKNOWN_DIM;
      return [{ dtype: ctx.dtype(0), shape: ctx.layout === 'NHWC' ? [rois, h, w, c] : [rois, c, h, w] }];
    },
  },
  {
    name: 'GridSample', category: 'nn', since: 16, layoutSensitive: true,
    inputs: [{ name: 'X' }, { name: 'grid' }], outputs: [{ name: 'Y' }],
    attrs: {
      align_corners: { type: 'int', default: 0 },
      mode: [{ type: 'string', default: 'bilinear', before: 20 }, { type: 'string', default: 'linear', since: 20 }],
      padding_mode: { type: 'string', default: 'zeros' },
    },
    infer: (ctx) => {
      const x = ctx.shape(0);
      const g = ctx.shape(1);
      if (!x || !g) return [{ dtype: ctx.dtype(0) }];
      const spatial = g.slice(1, -1);
      const n = x[0] as Dim;
      const c = x[ctx.layout === 'NHWC' ? x.length - 1 : 1] as Dim;
      return [{ dtype: ctx.dtype(0), shape: ctx.layout === 'NHWC' ? [n, ...spatial, c] : [n, c, ...spatial] }];
    },
  },
];
