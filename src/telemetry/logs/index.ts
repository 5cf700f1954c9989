// The log store's public surface: what the API, the CLI and the control plane import.
export { LogStore, LOG_DEFAULTS, type LogStoreOptions } from './store.ts';
export { LogTailer, instanceOutputs, type TailerOptions, type TailSink } from './tailer.ts';
export { filterFromParams, parseTimeArg, parseLevelArg, parseFieldArgs, type FilterParams } from './args.ts';
export { eventToRecord } from './events.ts';
export { parseLine, normalizeLevel, type ParsedLine } from './parse.ts';
export { matches, DEFAULT_LIMIT, MAX_LIMIT } from './filter.ts';
export type { SearchMode } from './search.ts';
export * from './types.ts';
