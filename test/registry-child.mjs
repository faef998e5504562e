// A child process for the registry's multi-process tests (test/registry-processes.test.ts).
// Node 20 cannot run TypeScript, so this registers tiny module hooks that transpile the
// repository's .ts sources with TypeScript's transpileModule (and map `./x.js` imports to
// `./x.ts`), then registers a package `count` times (each with its own report, so every
// registration has a new artifact to store) and prints each version as a JSON line.
//   node test/registry-child.mjs <registryDir> <packageDirOrArchive> <count>
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

const [registryDir, source, count = '1'] = process.argv.slice(2);
const { ModelRegistry } = await import('../src/registry/index.ts');
const registry = ModelRegistry.open(registryDir);
for (let i = 0; i < Number(count); i++) {
  const v = await registry.register(source, { createdBy: `pid-${process.pid}`, metrics: { run: i }, reportHtml: `<p>report of ${process.pid} #${i}</p>` });
  process.stdout.write(`${JSON.stringify({ name: v.name, version: v.version, pid: process.pid })}\n`);
}
registry.close();
