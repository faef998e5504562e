/**
 * Static checks of a `python` package (docs/python-models.md), run at registration and on every
 * load without running any of its code: the model file is `*.py` and defines a class with
 * `def load(self, context)` and `def predict(self, inputs)`; packages.txt names look like Debian
 * package names. Paths are already confined to the package by readPackageListing (paths.ts).
 * Whether requirements.txt installs is the environment build's question (src/python/env.ts).
 */
import { readFileSync } from 'node:fs';
import { FrescoError } from '../errors/index.js';
import type { Manifest } from './manifest.js';

const invalid = (file: string, message: string, key?: string) => new FrescoError('FRESCO_ERR_PACKAGE_INVALID', `${file}: ${message}`, { location: key ? { file, key } : { file } });

/** A Debian package name (policy 5.6.1), optionally with an architecture qualifier. */
const DEBIAN_NAME = /^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?$/;

export function checkPythonPackage(manifest: Manifest, fileOf: (path: string) => string): void {
  const file = manifest.model;
  if (!file.endsWith('.py')) throw invalid(file, 'the python backend expects a Python model file (model.py)', 'model');
  const source = readFileSync(fileOf(file), 'utf8');
  // A top-level class whose body defines load(self, ...) and predict(self, ...): read line by line
  // (indentation), the shape fresco_runner.py looks for when it imports the file.
  let inClass = false;
  let methods = new Set<string>();
  let found = false;
  for (const line of source.split('\n')) {
    if (/^class\s+\w+/.test(line)) {
      if (inClass && methods.has('load') && methods.has('predict')) found = true;
      inClass = true;
      methods = new Set();
    } else if (/^\S/.test(line) && !/^(#|@)/.test(line)) {
      if (inClass && methods.has('load') && methods.has('predict')) found = true;
      inClass = false;
    } else if (inClass) {
      const m = /^\s+(?:async\s+)?def\s+(load|predict)\s*\(\s*self\s*,\s*\w+/.exec(line);
      if (m) methods.add(m[1] as string);
    }
  }
  if (inClass && methods.has('load') && methods.has('predict')) found = true;
  if (!found) throw invalid(file, 'a python model must define a class with load(self, context) and predict(self, inputs)', 'model');
  if (Object.hasOwn(manifest.files, 'packages.txt')) {
    const lines = readFileSync(fileOf('packages.txt'), 'utf8').split('\n');
    lines.forEach((raw, i) => {
      const name = raw.replace(/#.*/, '').trim();
      if (name && !DEBIAN_NAME.test(name)) throw new FrescoError('FRESCO_ERR_PACKAGE_INVALID', `packages.txt:${i + 1}: ${JSON.stringify(name)} is not a system package name (one Debian package a line)`, { location: { file: 'packages.txt', line: i + 1 } });
    });
  }
}
