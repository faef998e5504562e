/** fresco.yaml: schema, loading, defaults; and the YAML reader that names file, line and key. */
export * from './duration.js';
export * from './project-config.js';
export { formatKeyPath, parseYaml, readYamlFile, readYamlValue, type KeyPath, type Position, type YamlFile } from './yaml-file.js';
