// A child process for test/online-kill.test.ts: materializes a project in small chunks, slowly,
// printing `chunk <rows>` to stderr after each committed chunk, so the test can SIGKILL it halfway.
// Uses the same TypeScript-transpiling module hooks as registry-child.mjs.
//   node test/online-child.mjs <projectDir> <storeDir> <endIso>
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

const [project, storeDir, end] = process.argv.slice(2);
const { materialize, EmbeddedOnlineStore } = await import('../src/online/index.ts');
const store = new EmbeddedOnlineStore(storeDir);
await materialize({
  project,
  end,
  store,
  tables: ['driver_hourly'],
  chunkRows: 10,
  onProgress: async (p) => {
    process.stderr.write(`chunk ${p.rows}\n`);
    await new Promise((r) => setTimeout(r, 40));
  },
});
process.stderr.write('done\n');
