/**
 * The `flights` template: vega-datasets' US flights, a departure-delay classifier. Its data is a
 * sample written at init from the vega-datasets package (a dependency of Fresco, so it is there
 * in a user's install): one flight in 20 of January 2001 (about 25,000, spread over the month so
 * that a time split and 7-day windows mean something), their labels, and the airports.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ProjectTemplate } from './index.js';

/** A file of the vega-datasets package. Its exports hide package.json: go from its entry point. */
function vegaDataFile(name: string): string {
  return join(createRequire(import.meta.url).resolve('vega-datasets'), '..', '..', 'data', name);
}

/** The sample: one flight in SAMPLE_EVERY, chosen by a hash of the row (the same on every init). */
const SAMPLE_EVERY = 20;

export const flightsTemplate: ProjectTemplate = {
  description: 'US flights of January 2001 (a sample of vega-datasets) and a departure-delay classifier',
  dataFiles: ['data/flights.parquet', 'data/labels.parquet', 'data/airports.csv'],
  async writeData(root) {
    const data = join(root, 'data');
    mkdirSync(data, { recursive: true });
    copyFileSync(vegaDataFile('airports.csv'), join(data, 'airports.csv'));
    // DuckDB is loaded only here: `fresco init` without --example does not need it.
    const [{ openEngine }, { quoteString: q }] = await Promise.all([import('../offline/engine.js'), import('../offline/read-columns.js')]);
    const engine = await openEngine();
    try {
      const flights = join(data, 'flights.parquet');
      await engine.run(
        `COPY (SELECT date, delay, distance, origin, destination FROM read_parquet(${q(vegaDataFile('flights-3m.parquet'))})
          WHERE date < TIMESTAMP '2001-02-01' AND hash(date, origin, destination, distance, delay) % ${SAMPLE_EVERY} = 0
          ORDER BY date, origin, destination) TO ${q(flights)} (FORMAT parquet)`,
      );
      // Labels: whether each flight left more than 15 minutes late (the delay itself left out).
      await engine.run(
        `COPY (SELECT date, origin, destination, distance, delay > 15 AS delayed FROM read_parquet(${q(flights)}) WHERE delay IS NOT NULL ORDER BY date, origin, destination)
          TO ${q(join(data, 'labels.parquet'))} (FORMAT parquet)`,
      );
    } finally {
      engine.close();
    }
  },
};
