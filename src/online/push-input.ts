/**
 * Rows to push, read from CSV, JSON lines or Parquet into plain records, each with its row number
 * and line so validation can say exactly where a bad value is. Nothing is typed here: CSV and
 * Parquet values arrive as text (Parquet columns are cast to VARCHAR) and push-validate.ts
 * parses them against the source's columns; JSON values keep their JSON types.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { FrescoError } from '../errors/index.js';
import { openEngine } from '../offline/engine.js';

export type PushFormat = 'csv' | 'jsonl' | 'parquet';

export interface PushRecord {
  /** 1-based data row (the header of a CSV is not a row). */
  row: number;
  /** 1-based line in the input (CSV, JSON lines); undefined for Parquet. */
  line?: number;
  /** Column -> value: text (CSV, Parquet, stream fields) or a JSON value. */
  fields: Record<string, unknown>;
  /** True when every value is text to be parsed (CSV, Parquet); JSON keeps its types. */
  text: boolean;
}

export function formatOf(file: string): PushFormat {
  const ext = extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.parquet') return 'parquet';
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${file}: cannot push a "${ext}" file; use .csv, .jsonl/.ndjson (JSON lines) or .parquet`, { location: { file } });
}

/** One CSV record: its cells (empty unquoted = null), first line, and the text span it came from (line end included). */
export interface CsvRecord {
  cells: (string | null)[];
  line: number;
  start: number;
  end: number;
}

/** RFC 4180 records of `text`, blank lines skipped; shared by parseCsv and the static-source rewrite (push-upsert.ts). */
export function* scanCsv(text: string, where: string): Generator<CsvRecord> {
  let i = 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const startLine = line;
    const start = i;
    const cells: (string | null)[] = [];
    for (;;) {
      let cell = '';
      let quoted = false;
      if (text[i] === '"') {
        quoted = true;
        i++;
        for (;;) {
          if (i >= n) throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${where}: line ${startLine}: a quoted field is not closed`, { location: { file: where, line: startLine } });
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              cell += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          cell += c;
          i++;
        }
      }
      while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') cell += text[i++];
      cells.push(cell === '' && !quoted ? null : cell);
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '\r') i++;
      if (text[i] === '\n') {
        i++;
        line++;
      }
      break;
    }
    if (cells.length === 1 && cells[0] === null) continue; // a blank line
    yield { cells, line: startLine, start, end: i };
  }
}

/** The header's column names, checked: each named, none twice. */
export function csvHeader(record: CsvRecord, where: string): string[] {
  const header = record.cells.map((c) => (c ?? '').trim());
  const seen = new Set<string>();
  for (const [k, h] of header.entries()) {
    if (!h) throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${where}: line ${record.line}: header column ${k + 1} has no name`, { location: { file: where, line: record.line, column: k + 1 } });
    if (seen.has(h)) throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${where}: line ${record.line}: column "${h}" appears twice in the header`, { location: { file: where, line: record.line, key: h } });
    seen.add(h);
  }
  return header;
}

/** RFC 4180 CSV with a header line; quoted fields may hold commas, quotes ("") and newlines. Empty = null. */
export function parseCsv(text: string, where: string): PushRecord[] {
  const records: PushRecord[] = [];
  let header: string[] | undefined;
  for (const record of scanCsv(text, where)) {
    if (!header) {
      header = csvHeader(record, where);
      continue;
    }
    const { cells, line: startLine } = record;
    const row = records.length + 1;
    if (cells.length !== header.length) {
      throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${where}: row ${row} (line ${startLine}) has ${cells.length} fields, the header has ${header.length}; nothing was pushed`, {
        location: { file: where, line: startLine },
      });
    }
    const fields: Record<string, unknown> = {};
    header.forEach((h, k) => (fields[h] = cells[k]));
    records.push({ row, line: startLine, fields, text: true });
  }
  if (!header) throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${where}: empty CSV (no header line)`, { location: { file: where } });
  return records;
}

/** One JSON object per line; blank lines are skipped. */
export function parseJsonLines(text: string, where: string): PushRecord[] {
  const records: PushRecord[] = [];
  const lines = text.split('\n');
  for (let k = 0; k < lines.length; k++) {
    const l = lines[k]!.trim();
    if (!l) continue;
    let value: unknown;
    try {
      value = JSON.parse(l);
    } catch (error) {
      throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${where}: row ${records.length + 1} (line ${k + 1}) is not JSON: ${(error as Error).message}; nothing was pushed`, {
        location: { file: where, line: k + 1 },
      });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${where}: row ${records.length + 1} (line ${k + 1}) is not a JSON object; nothing was pushed`, { location: { file: where, line: k + 1 } });
    }
    records.push({ row: records.length + 1, line: k + 1, fields: value as Record<string, unknown>, text: false });
  }
  return records;
}

/** Parquet through DuckDB, every column as text (timestamps as `YYYY-MM-DD HH:MM:SS`). */
export async function readParquetRecords(file: string): Promise<PushRecord[]> {
  const engine = await openEngine({ threads: 1 });
  try {
    const lit = `'${file.replaceAll("'", "''")}'`;
    let rows: Record<string, unknown>[];
    try {
      const cols = [...(await engine.describe(`read_parquet(${lit})`)).keys()];
      rows = await engine.rows(`SELECT ${cols.map((c) => `CAST("${c.replaceAll('"', '""')}" AS VARCHAR) AS "${c.replaceAll('"', '""')}"`).join(', ')} FROM read_parquet(${lit})`);
    } catch (error) {
      throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${file}: cannot read it as Parquet: ${(error as Error).message.split('\n')[0]}`, { location: { file }, cause: error });
    }
    return rows.map((fields, k) => ({ row: k + 1, fields, text: true }));
  } finally {
    engine.close();
  }
}

/** Reads a file (or `text` for stdin / an HTTP body) in the given or inferred format. */
export async function readPushInput(args: { file?: string; text?: string; format?: PushFormat; where?: string }): Promise<PushRecord[]> {
  const where = args.where ?? args.file ?? 'input';
  const format = args.format ?? (args.file ? formatOf(args.file) : 'jsonl');
  if (format === 'parquet') {
    if (!args.file) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', 'Parquet can be pushed from a file only; send CSV or JSON lines on stdin');
    return readParquetRecords(args.file);
  }
  let text = args.text;
  if (text === undefined) {
    try {
      text = readFileSync(args.file!, 'utf8');
    } catch (error) {
      throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${args.file}: cannot read it: ${(error as Error).message}`, { location: { file: args.file! }, cause: error });
    }
  }
  return format === 'csv' ? parseCsv(text, where) : parseJsonLines(text, where);
}
