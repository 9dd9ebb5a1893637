import { APICallError, lazySchema, type ZodNamespace } from '@prompt2model/core/internal';
import type { z } from 'zod';

/**
 * A `datasets` feature type as the viewer's `/info` and `/rows` report it: `{_type: 'Value', dtype}`,
 * `{_type: 'ClassLabel', names}`, `{_type: 'Translation', languages}`, `{_type: 'Sequence' | 'List',
 * feature}`, a dict of features (no `_type`), or a one-item list (the shorthand for a sequence).
 * Kept as JSON at the boundary; `@prompt2model/dataset-retriever` interprets it.
 */
export type DatasetFeature = { _type?: string; [key: string]: unknown } | DatasetFeature[];
const FeatureSchema: z.ZodType<DatasetFeature> = lazySchema((z) =>
  z.union([z.looseObject({ _type: z.string().optional() }), z.array(z.lazy(() => FeatureSchema))]),
);

export const DatasetSplitEntrySchema = lazySchema((z) => z.object({ dataset: z.string(), config: z.string(), split: z.string() }));
export const DatasetSplitsResponseSchema = lazySchema((z) =>
  z.looseObject({
    splits: z.array(DatasetSplitEntrySchema),
    pending: z.array(z.unknown()).optional(),
    failed: z.array(z.unknown()).optional(),
  }),
);
export type DatasetSplitEntry = z.infer<typeof DatasetSplitEntrySchema>;

export const DatasetConfigInfoSchema = lazySchema((z) =>
  z.looseObject({
    description: z.string().optional(),
    license: z.string().optional(),
    homepage: z.string().optional(),
    config_name: z.string().optional(),
    features: z.record(z.string(), FeatureSchema),
    splits: z.record(z.string(), z.looseObject({ name: z.string().optional(), num_examples: z.number().optional(), num_bytes: z.number().optional() })).optional(),
    download_size: z.number().optional(),
    dataset_size: z.number().optional(),
  }),
);
export type DatasetConfigInfo = z.infer<typeof DatasetConfigInfoSchema>;
export const DatasetInfoResponseSchema = lazySchema((z) =>
  z.looseObject({ dataset_info: DatasetConfigInfoSchema, partial: z.boolean().optional() }),
);

const sizeCounts = (z: ZodNamespace) => ({
  num_bytes_original_files: z.number().nullish(),
  num_bytes_parquet_files: z.number().nullish(),
  num_bytes_memory: z.number().nullish(),
  num_rows: z.number(),
});
export const DatasetSizeResponseSchema = lazySchema((z) => {
  const counts = sizeCounts(z);
  return z.looseObject({
    size: z.looseObject({
      dataset: z.looseObject({ dataset: z.string(), ...counts }),
      configs: z.array(z.looseObject({ dataset: z.string(), config: z.string(), ...counts, num_columns: z.number().optional() })),
      splits: z.array(z.looseObject({ dataset: z.string(), config: z.string(), split: z.string(), ...counts, num_columns: z.number().optional() })),
    }),
    partial: z.boolean().optional(),
  });
});
export type DatasetSize = z.infer<typeof DatasetSizeResponseSchema>['size'];

export const ParquetFileEntrySchema = lazySchema((z) =>
  z.looseObject({
    dataset: z.string(),
    config: z.string(),
    split: z.string(),
    url: z.string(),
    filename: z.string(),
    size: z.number(),
  }),
);
export type ParquetFileEntry = z.infer<typeof ParquetFileEntrySchema>;
export const ParquetResponseSchema = lazySchema((z) =>
  z.looseObject({ parquet_files: z.array(ParquetFileEntrySchema), partial: z.boolean().optional() }),
);

export const DatasetRowsResponseSchema = lazySchema((z) =>
  z.looseObject({
    features: z.array(z.looseObject({ feature_idx: z.number().optional(), name: z.string(), type: FeatureSchema })),
    rows: z.array(z.looseObject({ row_idx: z.number(), row: z.record(z.string(), z.unknown()), truncated_cells: z.array(z.string()).optional() })),
    num_rows_total: z.number(),
    num_rows_per_page: z.number().optional(),
    partial: z.boolean().optional(),
  }),
);
export type DatasetRowsPage = z.infer<typeof DatasetRowsResponseSchema>;

/** Validates a viewer answer; a changed API shape is a clear, non-retryable error. */
export function parseViewerResponse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.slice(0, 3).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
  throw new APICallError({ message: `Unexpected dataset viewer answer for ${what}: ${issues}`, isRetryable: false, hint: 'The dataset viewer API changed shape or the URL points elsewhere; check HF_DATASET_VIEWER_URL.' });
}
