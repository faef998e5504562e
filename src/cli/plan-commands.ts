import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FrescoError } from '../errors/index.js';
import type { Engine, Plan } from '../plan/index.js';
import { type Io, printData, table } from './output.js';

// The plan module (the native addon) is imported when a command runs, so `--help` loads none of it.
async function loadPlan(file: string): Promise<Plan> {
  const { validatePlan } = await import('../plan/index.js');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${file}: no such plan file`, { location: { file } });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new FrescoError('FRESCO_ERR_PLAN_INVALID', `${file}: not valid JSON: ${(error as Error).message}`, { location: { file } });
  }
  try {
    return validatePlan(value).plan;
  } catch (error) {
    if (error instanceof FrescoError) throw new FrescoError(error.code, `${file}: ${error.message}`, { location: { file } });
    throw error;
  }
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--limit must be a non-negative integer, got "${value}"`);
  return n;
}

export function registerPlanCommands(program: Command, io: Io): void {
  const plan = program.command('plan').description('check and run feature plans (docs/plan-format.md)');

  plan
    .command('check <file>')
    .description("validate a plan file and print its inputs and outputs")
    .action(async (file: string) => {
      const p = await loadPlan(file);
      const json = program.opts<{ json?: boolean }>().json ?? false;
      const data = { file, inputs: p.inputs, ops: p.ops.length, outputs: p.outputs };
      printData(io, json, data, () =>
        [
          `${file}: valid plan, ${p.inputs.length} input(s), ${p.ops.length} op(s), ${p.outputs.length} output column(s)`,
          table(['slot', 'input', 'type'], p.inputs.map((input, i) => [i, input.name, input.type])),
          `outputs (matrix columns): slots ${p.outputs.join(', ')}`,
        ].join('\n'),
      );
    });

  plan
    .command('run <file>')
    .description('run a plan over a Parquet or CSV file whose columns are named like the plan inputs')
    .requiredOption('--input <file>', 'the data file (.parquet or .csv)')
    .option('--limit <rows>', 'read at most this many rows', parseLimit)
    .option('--engine <engine>', 'native or reference', 'native')
    .option('--show <rows>', 'rows of the matrix to print', parseLimit, 5)
    .action(async (file: string, options: { input: string; limit?: number; engine: string; show: number }) => {
      if (options.engine !== 'native' && options.engine !== 'reference') {
        throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--engine must be "native" or "reference", got "${options.engine}"`);
      }
      const p = await loadPlan(file);
      const [{ readColumns }, { planRunner }] = await Promise.all([import('../offline/read-columns.js'), import('../plan/index.js')]);
      const data = await readColumns(options.input, {
        columns: p.inputs.map((input) => input.name),
        ...(options.limit === undefined ? {} : { limit: options.limit }),
      });
      const started = performance.now();
      const matrix = planRunner(p, options.engine as Engine)(data.columns, data.rows);
      const ms = performance.now() - started;
      const width = p.outputs.length;
      const shown = Array.from({ length: Math.min(options.show, data.rows) }, (_, r) => Array.from(matrix.subarray(r * width, (r + 1) * width)));
      const json = program.opts<{ json?: boolean }>().json ?? false;
      printData(io, json, { rows: data.rows, columns: width, engine: options.engine, ms, head: shown }, () =>
        [
          `${data.rows} rows x ${width} columns in ${ms.toFixed(1)} ms (${options.engine})`,
          table(
            Array.from({ length: width }, (_, j) => `c${j}`),
            shown.map((row) => row.map((v) => (Number.isNaN(v) ? 'null' : Number(v.toPrecision(6))))),
          ),
        ].join('\n'),
      );
    });
}
