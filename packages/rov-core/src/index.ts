export { ASN_MAX, parseAsn, parseOrigin, type Origin } from './asn.js';
export {
  AsnError,
  MaxLengthError,
  PrefixError,
  RovError,
  SnapshotError,
  VrpFileError,
  type RovErrorCode,
} from './errors.js';
export {
  formatPrefix,
  formatV4Address,
  formatV6Address,
  parsePrefix,
  parsePrefixInto,
  type Family,
  type Prefix,
} from './prefix.js';
export { PrefixTrie } from './prefix-trie.js';
export {
  ValidationCode,
  reasonOf,
  validityOf,
  type Explanation,
  type InvalidReason,
  type RouteValidity,
} from './validity.js';
export { type Vrp, type VrpInput } from './vrp.js';
export { VrpList } from './vrp-list.js';
export { VrpTable, type VrpAttributes } from './vrp-table.js';
export { decodeSnapshot, encodeSnapshot, loadSnapshot, saveSnapshot } from './snapshot.js';
export {
  DEFAULT_VRP_TOKEN_LIMIT,
  loadVrpBuffer,
  loadVrpFile,
  VrpStreamLoader,
  type LoadVrpOptions,
  type LoadVrpResult,
  type VrpFileFormat,
} from './load/vrp-file.js';
export { MAX_JSON_DEPTH } from './load/json-reader.js';
export { escapeControls, MESSAGE_MAX, QUOTE_MAX, quoteInput, safeMessage } from './load/quote.js';
export { toValidityJson, type ValidityJson, type ValidityJsonVrp } from './validity-json.js';
