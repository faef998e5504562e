/**
 * `fresco serve` and `fresco predict` (docs/serving.md). Thin: serve builds a FrescoServer from
 * options and waits for SIGTERM/SIGINT (graceful: stop accepting, drain, exit); predict sends one
 * request with the client and prints the answer.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { FrescoError } from '../errors/index.js';
import type { ModelSettingsInput } from '../serving/settings.js';
import { type Io, printData } from './output.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function int(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${name} must be a non-negative integer, got "${value}"`);
    return n;
  };
}

/** ": origin_delays missing, ..." for row `row`'s tables that were not present. */
function featureTablesOf(details: { row: number; table: string; status: string }[], row: number): string {
  const mine = details.filter((d) => d.row === row).map((d) => `${d.table} ${d.status}`);
  return mine.length ? ` (${mine.join(', ')})` : '';
}

/** `k=v` -> [k, value]: numbers, true/false and null are typed; anything else is a string. */
export function parseAssignment(text: string, what: string): [string, string | number | boolean | null] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${what} "${text}" must look like name=value`);
  const key = text.slice(0, eq);
  const raw = text.slice(eq + 1);
  if (raw === 'null') return [key, null];
  if (raw === 'true' || raw === 'false') return [key, raw === 'true'];
  if (raw.trim() !== '' && Number.isFinite(Number(raw))) return [key, Number(raw)];
  return [key, raw];
}

interface ServingConfigFile {
  defaults?: ModelSettingsInput;
  models?: Record<string, ModelSettingsInput>;
}

async function readConfig(file: string): Promise<ServingConfigFile> {
  if (!existsSync(file)) throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${file}: no such serving configuration file`, { location: { file } });
  // The project's one YAML loader: syntax errors and alias bombs are config errors with a line.
  const { readYamlValue } = await import('../config/yaml-file.js');
  const value = readYamlValue(file);
  if (value === null || typeof value !== 'object' || Object.keys(value).some((k) => k !== 'defaults' && k !== 'models')) {
    throw new FrescoError('FRESCO_ERR_CONFIG_INVALID', `${file}: expected a mapping with "defaults" and/or "models" (model name -> settings)`, { location: { file } });
  }
  return value as ServingConfigFile;
}

export function registerServeCommands(program: Command, io: Io): void {
  program
    .command('serve')
    .description('serve models over binary RPC (WebSocket, HTTP) and KServe v2 on one port (docs/serving.md)')
    .option('--port <port>', 'port (0: any free port)', int('--port'), 8500)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--grpc-port <port>', 'also serve KServe v2 over gRPC (inference.GRPCInferenceService) on this port (0: any free port; default: no gRPC)', int('--grpc-port'))
    .option('--models <ref>', 'a model to serve: name, name@version, name@alias, or a package folder (repeatable; comma-separated works too)', collect)
    .option('--registry <dir>', 'registry folder (default: <project>/.fresco/registry)')
    .option('--project <dir>', 'project folder (default: the current folder)')
    .option('--config <file>', 'serving settings (YAML/JSON): {defaults: {...}, models: {name: {...}}}')
    .option('--admin-token <token>', 'bearer token for /admin (default: $FRESCO_ADMIN_TOKEN; none: admin API disabled)')
    .option('--max-batch-size <n>', 'default max batch size', int('--max-batch-size'))
    .option('--instances <n>', 'default inference workers per model version', int('--instances'))
    .option('--no-prioritize-serving', 'leave every thread in the normal scheduling class (default on Linux: all but the serving threads run in SCHED_IDLE; turn off where other busy processes share the cores)')
    .action(async (o: { port: number; grpcPort?: number; host: string; models?: string[]; registry?: string; project?: string; config?: string; adminToken?: string; maxBatchSize?: number; instances?: number; prioritizeServing: boolean }) => {
      const models = (o.models ?? []).flatMap((m) => m.split(',')).filter(Boolean);
      if (!models.length) throw new FrescoError('FRESCO_ERR_USAGE', 'name at least one model to serve with --models');
      const config = o.config ? await readConfig(o.config) : {};
      const defaults: ModelSettingsInput = { ...config.defaults };
      if (o.maxBatchSize !== undefined) defaults.maxBatchSize = o.maxBatchSize;
      if (o.instances !== undefined) defaults.instances = o.instances;
      // The server (uWebSockets.js, ONNX Runtime), the registry and the stores are imported here,
      // when `serve` runs: `fresco --help` and the other commands load none of them.
      const [{ ModelRegistry }, { registryDir }, { loadProject }, { openOnlineStore }, { FrescoServer, requestKeyNames }] = await Promise.all([
        import('../registry/index.js'),
        import('./registry-dir.js'),
        import('../features/project.js'),
        import('../online/open-store.js'),
        import('../serving/index.js'),
      ]);
      const needsRegistry = models.some((m) => !existsSync(m));
      const registry = needsRegistry || o.registry || o.project ? ModelRegistry.open(registryDir(o)) : undefined;
      const token = o.adminToken ?? process.env.FRESCO_ADMIN_TOKEN;
      // Dataframe models read `<table>.<feature>` inputs from the project's online store
      // (--project, or the current folder when it holds a fresco.yaml).
      const project = o.project ?? (existsSync('fresco.yaml') ? '.' : undefined);
      // Request rows name their entity keys as label rows do offline (the tables' join_key_map).
      const defined = project ? loadProject(project) : undefined;
      const onlineStore = defined ? await openOnlineStore(defined.config) : undefined;
      const online = onlineStore && defined ? { onlineStore, onlineKeyNames: requestKeyNames(defined) } : {};
      const server = new FrescoServer({ port: o.port, ...(o.grpcPort === undefined ? {} : { grpcPort: o.grpcPort }), host: o.host, models, defaults, modelSettings: config.models ?? {}, prioritizeServing: o.prioritizeServing, ...(registry ? { registry } : {}), ...(token ? { adminToken: token } : {}), ...online });
      try {
        await server.start();
      } catch (error) {
        await server.close().catch(() => {});
        await onlineStore?.close();
        registry?.close();
        throw error;
      }
      if (onlineStore) io.err(`fresco serve: online features from ${onlineStore.id}`);
      io.err(`fresco serve: listening on http://${o.host}:${server.port} (WebSocket /v1/ws, POST /v1/predict, KServe /v2, /metrics)`);
      if (server.grpcPort !== undefined) io.err(`fresco serve: KServe v2 gRPC on ${o.host}:${server.grpcPort}`);
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          io.err(`fresco serve: ${signal}: draining`);
          process.off('SIGTERM', onTerm);
          process.off('SIGINT', onInt);
          void server.close().then(resolve);
        };
        const onTerm = () => stop('SIGTERM');
        const onInt = () => stop('SIGINT');
        process.on('SIGTERM', onTerm);
        process.on('SIGINT', onInt);
      });
      await onlineStore?.close();
      registry?.close();
    });

  program
    .command('predict <ref>')
    .description('send one prediction to a running server and print the answer')
    .option('--url <url>', 'the server', 'ws://127.0.0.1:8500')
    .option('--key <k=v>', 'an entity key (repeatable)', collect)
    .option('--field <f=v>', 'a request field (repeatable)', collect)
    .option('--tensor <name=v1,v2,...>', 'a one-row float32 tensor (repeatable)', collect)
    .option('--timeout <ms>', 'timeout in milliseconds', int('--timeout'), 5000)
    .action(async (ref: string, o: { url: string; key?: string[]; field?: string[]; tensor?: string[]; timeout: number }, cmd: Command) => {
      const json = Boolean(cmd.optsWithGlobals().json);
      const { FrescoClient } = await import('../client/index.js');
      const client = new FrescoClient(o.url, { timeoutMs: o.timeout, connectTimeoutMs: o.timeout });
      try {
        const tensors: Record<string, { data: Float32Array; shape: number[] }> = {};
        for (const t of o.tensor ?? []) {
          const eq = t.indexOf('=');
          if (eq <= 0) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--tensor "${t}" must look like name=1,2,3`);
          const values = t.slice(eq + 1).split(',').map(Number);
          if (values.some((v) => Number.isNaN(v))) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--tensor "${t.slice(0, eq)}": values must be numbers`);
          tensors[t.slice(0, eq)] = { data: Float32Array.from(values), shape: [1, values.length] };
        }
        const keys = Object.fromEntries((o.key ?? []).map((k) => parseAssignment(k, '--key')));
        const fields = Object.fromEntries((o.field ?? []).map((f) => parseAssignment(f, '--field')));
        const rows = Object.keys(tensors).length ? [] : [{ keys, fields }];
        const p = await client.predict(ref, { tensors, rows });
        const outputs = Object.fromEntries(Object.entries(p.outputs).map(([name, t]) => [name, { dtype: t.dtype, shape: t.shape, data: Array.from(t.data as ArrayLike<number>, Number) }]));
        printData(io, json, { model: p.model, version: p.version, outputs, rowStatus: p.rowStatus, featureStatus: p.featureStatus, featureDetails: p.featureDetails }, () =>
          [
            `${p.model}@${p.version}`,
            ...Object.entries(outputs).map(([name, t]) => `  ${name} [${t.shape.join(', ')}] = ${JSON.stringify(t.data)}`),
            ...p.rowStatus.flatMap((s, i) => (s.status !== 'OK' ? [`  row ${i}: ${s.code}: ${s.message}`] : [])),
            // An answer from null features must not read as a confident one.
            ...p.featureStatus.flatMap((s, i) => (s !== 'present' ? [`  row ${i}: features ${s}${featureTablesOf(p.featureDetails, i)}`] : [])),
          ].join('\n'),
        );
      } finally {
        client.close();
      }
    });
}
