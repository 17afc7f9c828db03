// MRT route dumps (RFC 6396, RFC 8050) as a route source.
export { MrtError, type MrtErrorCode } from './errors.js';
export {
  Bgp4mpSubtype,
  DEFAULT_MAX_RECORD_LENGTH,
  MrtParser,
  MrtType,
  TableDumpV2Subtype,
  type MrtParserOptions,
  type MrtPeer,
  type MrtSink,
  type MrtStats,
} from './parser.js';
export {
  MrtFileSource,
  readMrt,
  type MrtReadOptions,
  type MrtReadResult,
  type MrtSourceOptions,
} from './reader.js';
