/**
 * Defaults of the push endpoint that the CLI shows in `fresco push-server --help`: a module of
 * their own, so that help does not load the server (and the online store behind it).
 */
export const DEFAULT_PUSH_MAX_BYTES = 16 * 2 ** 20;
