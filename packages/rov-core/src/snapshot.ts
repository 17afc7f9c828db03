// Snapshots: the table's typed arrays as they are, packed with msgpackr (which keeps
// typed arrays binary), optionally gzipped. Loading copies arrays instead of
// re-inserting VRPs, which is what makes it several times faster than parsing JSON.
import { readFile, writeFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Packr } from 'msgpackr';
import { SnapshotError } from './errors.js';
import { PrefixTrie } from './prefix-trie.js';
import { VrpTable } from './vrp-table.js';

const FORMAT = 'rovkit-vrp-table';
const VERSION = 1;

const packr = new Packr({ moreTypes: true, structuredClone: false });

interface TrieState {
  root: number;
  used: number;
  free: number;
  nodes: number;
  addr: Uint32Array;
  len: Uint8Array;
  child0: Int32Array;
  child1: Int32Array;
  parent: Int32Array;
  head: Int32Array;
}

interface SnapshotState {
  format: string;
  version: number;
  sizeV4: number;
  sizeV6: number;
  trustAnchors: string[];
  entriesUsed: number;
  entryFree: number;
  entryAsn: Uint32Array;
  entryMaxLength: Uint8Array;
  entryRefs: Uint32Array;
  entryNext: Int32Array;
  entryTa: Uint16Array;
  entryExpires: Uint32Array;
  v4: TrieState;
  v6: TrieState;
}

function trieState(trie: PrefixTrie): TrieState {
  const used = trie.used;
  return {
    root: trie.root,
    used,
    free: trie.freeHead,
    nodes: trie.nodeCount,
    addr: trie.addr.subarray(0, used * trie.words),
    len: trie.len.subarray(0, used),
    child0: trie.child0.subarray(0, used),
    child1: trie.child1.subarray(0, used),
    parent: trie.parent.subarray(0, used),
    head: trie.head.subarray(0, used),
  };
}

/** The table as bytes (msgpack; gzip with `compress`). */
export function encodeSnapshot(table: VrpTable, options: { compress?: boolean } = {}): Buffer {
  const used = table.entriesUsed;
  const state: SnapshotState = {
    format: FORMAT,
    version: VERSION,
    sizeV4: table.sizeV4,
    sizeV6: table.sizeV6,
    trustAnchors: table.trustAnchors,
    entriesUsed: used,
    entryFree: table.entryFree,
    entryAsn: table.entryAsn.subarray(0, used),
    entryMaxLength: table.entryMaxLength.subarray(0, used),
    entryRefs: table.entryRefs.subarray(0, used),
    entryNext: table.entryNext.subarray(0, used),
    entryTa: table.entryTa.subarray(0, used),
    entryExpires: table.entryExpires.subarray(0, used),
    v4: trieState(table.v4),
    v6: trieState(table.v6),
  };
  const packed = packr.pack(state);
  return options.compress ? gzipSync(packed, { level: 6 }) : packed;
}

/** Rebuilds a table from encodeSnapshot's bytes, checking every index it holds. */
export function decodeSnapshot(data: Uint8Array): VrpTable {
  let bytes = data;
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new SnapshotError(`snapshot: bad gzip data: ${(error as Error).message}`, { cause: error });
    }
  }
  let state: SnapshotState;
  try {
    state = packr.unpack(bytes) as SnapshotState;
  } catch (error) {
    throw new SnapshotError(`snapshot: not msgpack: ${(error as Error).message}`, { cause: error });
  }
  if (state === null || typeof state !== 'object' || state.format !== FORMAT) {
    throw new SnapshotError('not a rovkit VRP table snapshot');
  }
  if (state.version !== VERSION) {
    throw new SnapshotError(
      `snapshot format version ${String(state.version)} is not supported (expected ${VERSION})`,
    );
  }
  const used = state.entriesUsed;
  const table = new VrpTable({ capacity: 16 });
  checkArray('entryAsn', state.entryAsn, Uint32Array, used);
  checkArray('entryMaxLength', state.entryMaxLength, Uint8Array, used);
  checkArray('entryRefs', state.entryRefs, Uint32Array, used);
  checkArray('entryNext', state.entryNext, Int32Array, used);
  checkArray('entryTa', state.entryTa, Uint16Array, used);
  checkArray('entryExpires', state.entryExpires, Uint32Array, used);
  checkIndexes('entryNext', state.entryNext, used);
  checkIndex('entryFree', state.entryFree, used);
  if (!Array.isArray(state.trustAnchors) || !state.trustAnchors.every((t) => typeof t === 'string')) {
    throw new SnapshotError('snapshot: trustAnchors is not a list of names');
  }
  for (let i = 0; i < used; i++) {
    if (state.entryTa[i]! >= state.trustAnchors.length)
      throw new SnapshotError(`snapshot: entry ${i} names an unknown trust anchor`);
  }
  table.entriesUsed = used;
  table.entryAsn = copy(state.entryAsn, new Uint32Array(used + 16));
  table.entryMaxLength = copy(state.entryMaxLength, new Uint8Array(used + 16));
  table.entryRefs = copy(state.entryRefs, new Uint32Array(used + 16));
  table.entryNext = copy(state.entryNext, new Int32Array(used + 16));
  table.entryTa = copy(state.entryTa, new Uint16Array(used + 16));
  table.entryExpires = copy(state.entryExpires, new Uint32Array(used + 16));
  table.entryFree = state.entryFree;
  table.trustAnchors = state.trustAnchors;
  restoreTrie(table.v4, state.v4, 'v4', used);
  restoreTrie(table.v6, state.v6, 'v6', used);
  table.restoreSizes(state.sizeV4, state.sizeV6);
  return table;
}

export async function saveSnapshot(
  table: VrpTable,
  path: string,
  options: { compress?: boolean } = {},
): Promise<void> {
  await writeFile(path, encodeSnapshot(table, options));
}

export async function loadSnapshot(path: string): Promise<VrpTable> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (error) {
    throw new SnapshotError(`cannot read snapshot ${path}: ${(error as Error).message}`, { cause: error });
  }
  return decodeSnapshot(data);
}

function restoreTrie(trie: PrefixTrie, state: TrieState, name: string, entries: number): void {
  if (state === null || typeof state !== 'object') throw new SnapshotError(`snapshot: ${name} missing`);
  const used = state.used;
  if (!Number.isInteger(used) || used < 0) throw new SnapshotError(`snapshot: ${name}.used is not a count`);
  checkArray(`${name}.addr`, state.addr, Uint32Array, used * trie.words);
  checkArray(`${name}.len`, state.len, Uint8Array, used);
  for (const field of ['child0', 'child1', 'parent', 'head'] as const) {
    checkArray(`${name}.${field}`, state[field], Int32Array, used);
  }
  checkIndexes(`${name}.child0`, state.child0, used);
  checkIndexes(`${name}.child1`, state.child1, used);
  checkIndexes(`${name}.parent`, state.parent, used);
  checkIndexes(`${name}.head`, state.head, entries);
  checkIndex(`${name}.root`, state.root, used);
  checkIndex(`${name}.free`, state.free, used);
  for (let n = 0; n < used; n++) {
    const length = state.len[n]!;
    if (length !== 255 && length > trie.maxLength)
      throw new SnapshotError(`snapshot: ${name} node ${n} has length ${length}`);
  }
  trie.used = used;
  trie.adopt(used + 16);
  trie.addr.set(state.addr);
  trie.len.set(state.len);
  trie.child0.set(state.child0);
  trie.child1.set(state.child1);
  trie.parent.set(state.parent);
  trie.head.set(state.head);
  trie.root = state.root;
  trie.freeHead = state.free;
  trie.nodeCount = state.nodes;
}

function checkArray(name: string, value: unknown, type: Function, length: number): void {
  if (!(value instanceof type) || (value as Uint8Array).length !== length) {
    throw new SnapshotError(`snapshot: ${name} is not a ${type.name} of ${length}`);
  }
}

function checkIndex(name: string, value: number, limit: number): void {
  if (!Number.isInteger(value) || value < -1 || value >= limit)
    throw new SnapshotError(`snapshot: ${name} ${value} out of range`);
}

function checkIndexes(name: string, values: Int32Array, limit: number): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < -1 || v >= limit) throw new SnapshotError(`snapshot: ${name}[${i}] = ${v} out of range`);
  }
}

function copy<T extends Uint8Array | Uint16Array | Uint32Array | Int32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
