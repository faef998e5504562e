// `node --import ./trace-imports.mjs ...` records every module the process resolves (ESM imports,
// and the CommonJS packages they import) in the file named by $FRESCO_TRACE_IMPORTS, one URL a
// line. The CLI start-up test uses it to see what `fresco --help` loads.
import { register } from 'node:module';

const hooks = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.FRESCO_TRACE_IMPORTS, result.url + '\\n');
  return result;
}
`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, import.meta.url);
