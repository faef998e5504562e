// A child process for the registry's multi-process tests (test/registry-processes.test.ts).
// It imports the .ts sources through test/helpers/ts-hooks.mjs (Node 20 cannot run TypeScript),
// then registers a package `count` times (each with its own report, so every
// registration has a new artifact to store) and prints each version as a JSON line.
//   node test/registry-child.mjs <registryDir> <packageDirOrArchive> <count>
import './helpers/ts-hooks.mjs';

const [registryDir, source, count = '1'] = process.argv.slice(2);
const { ModelRegistry } = await import('../src/registry/index.ts');
const registry = ModelRegistry.open(registryDir);
for (let i = 0; i < Number(count); i++) {
  const v = await registry.register(source, { createdBy: `pid-${process.pid}`, metrics: { run: i }, reportHtml: `<p>report of ${process.pid} #${i}</p>` });
  process.stdout.write(`${JSON.stringify({ name: v.name, version: v.version, pid: process.pid })}\n`);
}
registry.close();
