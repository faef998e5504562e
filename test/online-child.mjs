// A child process for test/online-kill.test.ts: materializes a project in small chunks, slowly,
// printing `chunk <rows>` to stderr after each committed chunk, so the test can SIGKILL it halfway.
// Imports the .ts sources through test/helpers/ts-hooks.mjs.
//   node test/online-child.mjs <projectDir> <storeDir> <endIso>
import './helpers/ts-hooks.mjs';

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
