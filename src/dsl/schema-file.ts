/**
 * Reads a FeatureSchema from JSON (`fresco dsl check --schema`): the hand-written form of what the
 * feature store derives from its definitions. Every field is checked, with the key named on error.
 */
import { readFileSync } from 'node:fs';
import { FrescoError } from '../errors/index.js';
import type { FeatureSchema, FieldType } from '../features/schema.js';

const TYPES = new Set(['float', 'int', 'bool', 'string', 'timestamp']);

function fail(file: string, key: string, message: string): never {
  throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${file}: ${key}: ${message}`, { location: { file, key } });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function fields(file: string, key: string, value: unknown): Record<string, FieldType> {
  if (!isObject(value)) fail(file, key, 'must be an object of field -> { "type", "nullable" }');
  const out: Record<string, FieldType> = {};
  for (const [name, f] of Object.entries(value)) {
    const k = `${key}.${name}`;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) fail(file, k, 'a field name must be an identifier (letters, digits, _)');
    if (!isObject(f)) fail(file, k, 'must be { "type": ..., "nullable": true|false }');
    if (typeof f.type !== 'string' || !TYPES.has(f.type)) fail(file, `${k}.type`, `must be one of ${[...TYPES].join(', ')}, got ${JSON.stringify(f.type)}`);
    if (f.nullable !== undefined && typeof f.nullable !== 'boolean') fail(file, `${k}.nullable`, 'must be true or false');
    const extra = Object.keys(f).filter((x) => x !== 'type' && x !== 'nullable');
    if (extra.length) fail(file, `${k}.${extra[0]}`, 'unknown key; expected "type" and "nullable"');
    out[name] = { type: f.type as FieldType['type'], nullable: (f.nullable as boolean | undefined) ?? true };
  }
  return out;
}

/** Checks a parsed JSON value as a FeatureSchema (`nullable` defaults to true). */
export function parseFeatureSchema(value: unknown, file = '<schema>'): FeatureSchema {
  if (!isObject(value)) fail(file, '(root)', 'a schema is an object with "tables" and "request"');
  const extra = Object.keys(value).filter((k) => !['tables', 'request', 'versions'].includes(k));
  if (extra.length) fail(file, extra[0] as string, 'unknown key; expected "tables", "request" and optionally "versions"');
  const tablesValue = value.tables ?? {};
  if (!isObject(tablesValue)) fail(file, 'tables', 'must be an object of table -> features');
  const tables: FeatureSchema['tables'] = {};
  for (const [table, fs] of Object.entries(tablesValue)) {
    if (table === 'request') fail(file, 'tables.request', '"request" is reserved for request fields');
    tables[table] = fields(file, `tables.${table}`, fs);
  }
  const schema: FeatureSchema = { tables, request: fields(file, 'request', value.request ?? {}) };
  if (value.versions !== undefined) {
    if (!isObject(value.versions) || Object.values(value.versions).some((v) => typeof v !== 'string')) fail(file, 'versions', 'must be an object of table -> version string');
    schema.versions = value.versions as Record<string, string>;
  }
  return schema;
}

export function readFeatureSchema(file: string): FeatureSchema {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${file}: no such schema file`, { location: { file } });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${file}: not valid JSON: ${(error as Error).message}`, { location: { file } });
  }
  return parseFeatureSchema(value, file);
}
