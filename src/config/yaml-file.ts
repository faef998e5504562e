/**
 * Reads a YAML file and validates it with a zod schema, so that every error names the file, the
 * line and column, and the key path (`feature_tables[2].ttl`). The YAML document keeps its source
 * ranges, which is how a zod issue path becomes a position.
 */
import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { FrescoError } from '../errors/index.js';
import { checkAliases, MAX_ALIAS_EXPANSION } from './yaml-aliases.js';

export type KeyPath = readonly (string | number)[];

export interface Position {
  line: number;
  column: number;
}

/** A parsed, validated YAML file that can still say where each of its values came from. */
export interface YamlFile<T> {
  file: string;
  value: T;
  /** Line and column of the value at `path` (or of the nearest enclosing value that exists). */
  locate(path: KeyPath): Position | undefined;
}

/** `feature_tables[2].features[0].type` */
export function formatKeyPath(path: KeyPath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

export function invalidConfig(file: string, message: string, path: KeyPath = [], position?: Position): FrescoError {
  const key = path.length ? formatKeyPath(path) : undefined;
  const where = position ? `${file}:${position.line}:${position.column}` : file;
  return new FrescoError('FRESCO_ERR_CONFIG_INVALID', `${where}: ${key ? `${key}: ` : ''}${message}`, {
    location: { file, ...(position ?? {}), ...(key ? { key } : {}) },
  });
}

function locator(doc: Document, lines: LineCounter): (path: KeyPath) => Position | undefined {
  return (path) => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) {
        const p = lines.linePos(node.range[0]);
        return { line: p.line, column: p.col };
      }
    }
    return undefined;
  };
}

/** Where the key `key` of the map at `path` is written (for unknown keys). */
function keyPosition(doc: Document, lines: LineCounter, path: KeyPath, key: string): Position | undefined {
  const map = path.length ? doc.getIn(path, true) : doc.contents;
  if (!isMap(map)) return undefined;
  for (const item of map.items) {
    if (isPair(item) && isScalar(item.key) && String(item.key.value) === key && item.key.range) {
      const p = lines.linePos(item.key.range[0]);
      return { line: p.line, column: p.col };
    }
  }
  return undefined;
}

interface LoadedYaml {
  doc: Document;
  lines: LineCounter;
  value: unknown;
}

/**
 * The one way Fresco turns YAML text into values (fresco.yaml, features/*.yaml, train and dataset
 * specs, `serve --config`): syntax errors and alias bombs become FRESCO_ERR_CONFIG_INVALID with
 * the file, line and column, never an exception from the yaml package.
 */
function loadYaml(file: string, text: string): LoadedYaml {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): Position => {
    const p = lines.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const syntax = doc.errors[0];
  if (syntax) throw invalidConfig(file, `not valid YAML: ${syntax.message.split('\n')[0]}`, [], at(syntax.pos[0]));
  const alias = checkAliases(doc);
  if (alias) throw invalidConfig(file, alias.message, [], at(alias.offset));
  try {
    // checkAliases is the real limit; the package's own count stays on, far above it, as a
    // backstop (its default of 100 rejects ordinary files that merge one anchor 150 times).
    return { doc, lines, value: doc.toJS({ maxAliasCount: 10 * MAX_ALIAS_EXPANSION }) };
  } catch (error) {
    // The yaml package throws (ReferenceError) for aliases it cannot resolve or count.
    throw invalidConfig(file, `invalid YAML aliases: ${(error as Error).message}`);
  }
}

/** A YAML file's value, unvalidated (for files checked by hand), with the loader's errors. */
export function readYamlValue(file: string): unknown {
  return loadYaml(file, readText(file)).value;
}

export function parseYaml<S extends z.ZodType>(file: string, text: string, schema: S): YamlFile<z.infer<S>> {
  const { doc, lines, value } = loadYaml(file, text);
  const locate = locator(doc, lines);
  const raw: unknown = value ?? {};
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0]!;
      throw invalidConfig(file, `unknown key "${key}"${expectedKeys(schema, path)}`, [...path, key], keyPosition(doc, lines, path, key) ?? locate(path));
    }
    throw invalidConfig(file, issue.message, path, locate(path));
  }
  return { file, value: result.data, locate };
}

/** The keys a strict object accepts, for "unknown key" messages. */
function expectedKeys(schema: z.ZodType, path: KeyPath): string {
  let node: unknown = schema;
  for (const step of path) {
    node = unwrap(node);
    const def = (node as { def?: { type?: string; shape?: Record<string, unknown>; element?: unknown } }).def;
    if (def?.type === 'object' && typeof step === 'string') node = def.shape?.[step];
    else if (def?.type === 'array' && typeof step === 'number') node = def.element;
    else return '';
  }
  const def = (unwrap(node) as { def?: { type?: string; shape?: Record<string, unknown> } }).def;
  return def?.type === 'object' && def.shape ? `; expected one of: ${Object.keys(def.shape).join(', ')}` : '';
}

function unwrap(node: unknown): unknown {
  let n = node as { def?: { type?: string; innerType?: unknown } } | undefined;
  while (n?.def && (n.def.type === 'optional' || n.def.type === 'default' || n.def.type === 'nullable')) n = n.def.innerType as typeof n;
  return n;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${file}: no such file`, { location: { file } });
  }
}

export function readYamlFile<S extends z.ZodType>(file: string, schema: S): YamlFile<z.infer<S>> {
  return parseYaml(file, readText(file), schema);
}
