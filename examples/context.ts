import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../src/package-root.js';

/** What every quickstart step gets: where to work and where the real data lives. */
export interface QuickstartContext {
  /** The quickstart's own Fresco project folder (created fresh on each run, gitignored). */
  projectDir: string;
  /** vega-datasets' 3M US flights of 2001: date, delay, distance, origin, destination. */
  flightsParquet: string;
  /** vega-datasets' airports: iata, name, city, state, country, latitude, longitude. */
  airportsCsv: string;
  log(line: string): void;
}

/** A file of the vega-datasets package. Its exports hide package.json, so go from its entry point (build/index.js). */
export function vegaDataFile(name: string): string {
  return join(createRequire(import.meta.url).resolve('vega-datasets'), '..', '..', 'data', name);
}

/** The context every step runs in: the project under .quickstart/ and the vega-datasets files. */
export function quickstartContext(): QuickstartContext {
  return {
    projectDir: join(packageRoot(), '.quickstart'),
    flightsParquet: vegaDataFile('flights-3m.parquet'),
    airportsCsv: vegaDataFile('airports.csv'),
    log: (line) => console.log(line.replace(/^/gm, '  ')),
  };
}
