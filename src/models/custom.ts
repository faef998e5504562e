/**
 * The `custom` backend: a TypeScript file (`model.ts` by convention) exporting
 *   load(ctx: { dir, manifest }) => state | Promise<state>
 *   predict(state, inputs: Record<string, unknown>) => outputs | Promise<outputs>
 *
 * Registration checks the exports statically (TypeScript's parser; no package code runs).
 * Loading transpiles the file to CommonJS with TypeScript's transpileModule and compiles it as a
 * module whose filename is the file inside the package, so its relative imports and its
 * dependencies (the package's own node_modules, from its optional package.json) resolve there.
 * TypeScript must therefore be installed where custom models are registered or loaded.
 */
import { readFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname } from 'node:path';
import { FrescoError } from '../errors/index.js';
import type { Manifest } from './manifest.js';

export const REQUIRED_EXPORTS = ['load', 'predict'] as const;

export interface CustomModel<State = unknown> {
  load(ctx: { dir: string; manifest: Manifest }): State | Promise<State>;
  predict(state: State, inputs: Record<string, unknown>): unknown;
}

/** A custom model ready to predict: its module, and the state its load() returned. */
export interface LoadedCustomModel {
  predict(inputs: Record<string, unknown>): Promise<unknown>;
}

type Ts = typeof import('typescript');

async function typescript(file: string): Promise<Ts> {
  try {
    return ((await import('typescript')) as unknown as { default: Ts }).default;
  } catch (error) {
    throw new FrescoError('FRESCO_ERR_PACKAGE_INVALID', `${file}: custom models are TypeScript; install the "typescript" package to register or load them`, { location: { file }, cause: error });
  }
}

/** The names a TypeScript module exports, read from its syntax tree (nothing is executed). */
export async function exportedNames(source: string, file: string): Promise<Set<string>> {
  const ts = await typescript(file);
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const names = new Set<string>();
  const exported = (node: import('typescript').Node) => ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  for (const statement of sf.statements) {
    if ((ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) && statement.name && exported(statement)) names.add(statement.name.text);
    else if (ts.isVariableStatement(statement) && exported(statement)) {
      for (const d of statement.declarationList.declarations) if (ts.isIdentifier(d.name)) names.add(d.name.text);
    } else if (ts.isExportDeclaration(statement) && statement.exportClause && ts.isNamedExports(statement.exportClause)) {
      for (const e of statement.exportClause.elements) names.add(e.name.text);
    }
  }
  return names;
}

/** Rejects a custom model file that does not export load() and predict(). */
export async function checkCustomExports(absFile: string, shownAs: string): Promise<void> {
  const names = await exportedNames(readFileSync(absFile, 'utf8'), shownAs);
  const missing = REQUIRED_EXPORTS.filter((n) => !names.has(n));
  if (missing.length) {
    throw new FrescoError('FRESCO_ERR_PACKAGE_INVALID', `${shownAs}: a custom model must export ${missing.map((n) => `${n}()`).join(' and ')}`, { location: { file: shownAs } });
  }
}

interface CompilableModule {
  filename: string;
  paths: string[];
  exports: Record<string, unknown>;
  _compile(code: string, filename: string): void;
}

/** Transpiles and evaluates a custom model file, checks its exports, and runs its load(). */
export async function loadCustomModel(absFile: string, dir: string, manifest: Manifest): Promise<LoadedCustomModel> {
  const ts = await typescript(absFile);
  const out = ts.transpileModule(readFileSync(absFile, 'utf8'), {
    fileName: absFile,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, sourceMap: false },
  });
  // Module#_compile is how CommonJS loaders (ts-node among them) evaluate source under a chosen filename.
  const ModuleCtor = Module as unknown as { new (id: string): CompilableModule; _nodeModulePaths(dir: string): string[] };
  const mod = new ModuleCtor(absFile);
  mod.filename = absFile;
  mod.paths = ModuleCtor._nodeModulePaths(dirname(absFile));
  try {
    mod._compile(out.outputText, absFile);
  } catch (error) {
    throw new FrescoError('FRESCO_ERR_PACKAGE_INVALID', `${manifest.model}: failed to evaluate the custom model: ${(error as Error).message}`, { location: { file: manifest.model }, cause: error });
  }
  const exports = mod.exports as Partial<CustomModel>;
  for (const name of REQUIRED_EXPORTS) {
    if (typeof exports[name] !== 'function') {
      throw new FrescoError('FRESCO_ERR_PACKAGE_INVALID', `${manifest.model}: export ${name} is ${typeof exports[name]}, expected a function`, { location: { file: manifest.model } });
    }
  }
  const model = exports as CustomModel;
  const state = await model.load({ dir, manifest });
  return { predict: async (inputs) => model.predict(state, inputs) };
}
