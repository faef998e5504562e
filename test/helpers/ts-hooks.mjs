// Importing this module lets a child Node 20 process import the repository's .ts sources: it
// registers module hooks that transpile them with TypeScript's transpileModule and map
// `./x.js` imports to `./x.ts`. Used by the multi-process tests (registry, online, batch).
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

const typescriptUrl = pathToFileURL(createRequire(import.meta.url).resolve('typescript')).href;

const hooks = `
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from '${typescriptUrl}';
export async function resolve(specifier, context, next) {
  if (context.parentURL && context.parentURL.endsWith('.ts') && specifier.startsWith('.') && specifier.endsWith('.js')) {
    const url = new URL(specifier.slice(0, -3) + '.ts', context.parentURL);
    if (existsSync(fileURLToPath(url))) return { url: url.href, shortCircuit: true };
  }
  return next(specifier, context);
}
export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const source = readFileSync(fileURLToPath(url), 'utf8');
  const out = ts.transpileModule(source, { fileName: fileURLToPath(url), compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false } });
  return { format: 'module', source: out.outputText, shortCircuit: true };
}
`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, import.meta.url);
