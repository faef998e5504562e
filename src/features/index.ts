/** Feature definitions: entities, sources, feature tables and services, their versions and schema. */
export * from './schema.js';
export * from './definition-schema.js';
export * from './definitions.js';
export * from './versions.js';
export * from './state-store.js';
export * from './project.js';
export * from './feature-schema-from-definitions.js';
export * from './plan.js';
export * from './catalog.js';
