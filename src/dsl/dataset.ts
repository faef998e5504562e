/**
 * Where a plan's inputs come from in a dataset. The offline store names feature columns
 * `<table>__<feature>` and request (and label) columns by their own names, so the plan input
 * `airport_delay.delay_avg_24h` reads column `airport_delay__delay_avg_24h` and `request.distance`
 * reads `distance`.
 */
import { type ErrorCode, FrescoError } from '../errors/index.js';
import { type ColumnTable, readColumns } from '../offline/read-columns.js';
import type { Column, Plan } from '../plan/types.js';

/** The dataset column a plan input reads. */
export function datasetColumnName(inputName: string): string {
  const dot = inputName.indexOf('.');
  if (dot < 0) return inputName;
  const table = inputName.slice(0, dot);
  const field = inputName.slice(dot + 1);
  return table === 'request' ? field : `${table}__${field}`;
}

/**
 * The columns of `table` that feed `plan`, in the plan's input order. A missing column, or one of
 * the wrong kind (a number where the spec reads a string), is an error naming both.
 */
export function planColumns(plan: Plan, table: ColumnTable, code: ErrorCode = 'FRESCO_ERR_NOT_FOUND'): Column[] {
  return plan.inputs.map((input) => {
    const name = datasetColumnName(input.name);
    const index = table.names.indexOf(name);
    if (index < 0) {
      throw new FrescoError(code, `the dataset has no column "${name}" (for @${input.name}); columns: ${table.names.join(', ')}`, { location: { key: name } });
    }
    if (table.types[index] !== input.type) {
      const want = input.type === 'str' ? 'a string' : 'a number, bool or timestamp';
      throw new FrescoError('FRESCO_ERR_PLAN_INPUT', `dataset column "${name}" is ${table.types[index] === 'str' ? 'a string' : 'numeric'}, but @${input.name} is ${want} in the schema`, {
        location: { key: name },
      });
    }
    return table.columns[index] as Column;
  });
}

/** Reads just the columns `plan` needs from a Parquet or CSV dataset (names as above). */
export async function readPlanColumns(file: string, plan: Plan, options: { limit?: number } = {}): Promise<ColumnTable> {
  const names = [...new Set(plan.inputs.map((input) => datasetColumnName(input.name)))];
  return readColumns(file, { columns: names, ...(options.limit === undefined ? {} : { limit: options.limit }) });
}
