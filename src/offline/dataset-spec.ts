/**
 * Dataset specs: the arguments of `fresco dataset build` in a YAML file, so a training set can be
 * rebuilt from a file under version control. Relative paths are relative to the spec file.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { readYamlFile } from '../config/yaml-file.js';
import type { DatasetRequest } from './dataset-builder.js';

export const datasetSpecSchema = z
  .object({
    /** Training set: label file and its timestamp column. */
    labels: z.string().optional(),
    timestamp: z.string().optional(),
    labels_group: z.string().optional(),
    /** Prediction set: entity rows and the as-of time (ISO 8601; default now). */
    entities: z.string().optional(),
    as_of: z.string().optional(),
    /** `table.feature`, `table.*` or feature service names. */
    features: z.array(z.string()).min(1),
    out: z.string(),
    out_group: z.string().optional(),
  })
  .strict();

export function readDatasetSpec(file: string): Omit<DatasetRequest, 'project'> {
  const spec = readYamlFile(file, datasetSpecSchema).value;
  const at = (p: string) => (isAbsolute(p) ? p : resolve(dirname(file), p));
  return {
    ...(spec.labels ? { labels: at(spec.labels) } : {}),
    ...(spec.timestamp ? { timestamp: spec.timestamp } : {}),
    ...(spec.labels_group ? { labelsGroup: spec.labels_group } : {}),
    ...(spec.entities ? { entities: at(spec.entities) } : {}),
    ...(spec.as_of ? { asOf: spec.as_of } : {}),
    features: spec.features,
    out: at(spec.out),
    ...(spec.out_group ? { outGroup: spec.out_group } : {}),
  };
}
