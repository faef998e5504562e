/** The online feature store: embedded (LMDB) and Redis stores, materialization, push, reads. */
export * from './row-codec.js';
export * from './online-store.js';
export { EmbeddedOnlineStore, DEFAULT_MAP_SIZE, MATRIX_STATUS, type OnlineMatrix } from './embedded-store.js';
export { RedisOnlineStore, type RedisStoreOptions } from './redis-store.js';
export * from './open-store.js';
export * from './feature-rows.js';
export * from './materialize.js';
export * from './get-online-features.js';
export * from './push-input.js';
export * from './push-validate.js';
export * from './push-lake.js';
export * from './push.js';
export * from './push-server.js';
export * from './push-tail.js';
