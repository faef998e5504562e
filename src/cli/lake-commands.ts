/** `fresco lake import|describe`: the HDF5 lake format (docs/lake-hdf5.md). */
import type { Command } from 'commander';
import { type Io, printData, table } from './output.js';

export function registerLakeCommands(program: Command, io: Io): void {
  const lake = program.command('lake').description('the HDF5 lake: import and inspect tables');
  const json = () => program.opts<{ json?: boolean }>().json ?? false;
  lake
    .command('import <input>')
    .description('convert a CSV, Parquet or HDF5 file (or glob) into an HDF5 lake table')
    .requiredOption('--out <file.h5>', 'the HDF5 file to write')
    .option('--group <name>', 'table group in the HDF5 file (default: the input file name)')
    .option('--project <dir>', 'project folder (accepted for symmetry; paths are taken as given)', '.')
    .action(async (input: string, options: { out: string; group?: string }) => {
      // Loaded here, not at the top: h5wasm and DuckDB are for the command, not for `--help`.
      const { importToHdf5 } = await import('../offline/lake-import.js');
      const r = await importToHdf5(input, options.out, options.group ? { group: options.group } : {});
      printData(io, json(), r, () =>
        [`imported ${r.rows} rows x ${r.columns.length} columns from ${input} into ${r.out}:/${r.group} in ${(r.ms / 1000).toFixed(1)} s`, table(['column', 'type'], r.columns.map((c) => [c.name, c.type]))].join('\n'),
      );
    });
  lake
    .command('describe <file>')
    .description('print the table layout of an HDF5 lake file')
    .option('--group <name>', 'table group (default: the only one)')
    .action(async (file: string, options: { group?: string }) => {
      const { describeHdf5 } = await import('../offline/hdf5-lake.js');
      const info = await describeHdf5(file, options.group);
      printData(io, json(), info, () =>
        [`${file}:/${info.group.replace(/^\//, '')}: ${info.rows} rows`, table(['column', 'type', 'storage', 'nulls'], info.columns.map((c) => [c.name, c.type, c.dictionary ? 'int32 codes + _dict' : 'values', c.nullMask ? '_nulls mask' : '']))].join('\n'),
      );
    });
}
