// Optional persisted state, so that a restarted monitor resumes with a Serial Query
// instead of a full reset. One file, written to a temporary name and renamed (atomic on
// POSIX), in a small format of its own:
//   "RTRSTATE" | u32 version = 1 | u32 JSON length | JSON header
//   | IPv4 VRPs, 10 bytes each: address u32, length u8, maxLength u8, ASN u32
//   | IPv6 VRPs, 22 bytes each: four address words u32, length u8, maxLength u8, ASN u32
// All integers big-endian. The header holds the cache, session id, serial, version,
// timers, sync time, ASPA records and router keys.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { VrpList, type VrpTable } from '@rovkit/core';
import { StateFileError } from './errors.js';
import type { AspaRecord, RouterKeyRecord } from './payload.js';
import type { Timers } from './pdu.js';

const MAGIC = Buffer.from('RTRSTATE', 'latin1');
const FORMAT_VERSION = 1;
const V4_BYTES = 10;
const V6_BYTES = 22;

export interface PersistedHeader {
  /** Transport target the data came from. */
  readonly target: string;
  readonly sessionId: number;
  readonly serial: number;
  readonly version: number;
  readonly timers: Timers;
  /** ms since the epoch of the End of Data that produced this state. */
  readonly syncedAt: number;
  readonly aspas: readonly AspaRecord[];
  readonly routerKeys: readonly RouterKeyRecord[];
}

export interface PersistedState extends PersistedHeader {
  readonly vrps: VrpList;
}

export function encodeState(header: PersistedHeader, table: VrpTable): Buffer {
  const json = Buffer.from(JSON.stringify({ ...header, v4: table.sizeV4, v6: table.sizeV6 }), 'utf8');
  const out = Buffer.allocUnsafe(16 + json.length + table.sizeV4 * V4_BYTES + table.sizeV6 * V6_BYTES);
  MAGIC.copy(out, 0);
  out.writeUInt32BE(FORMAT_VERSION, 8);
  out.writeUInt32BE(json.length, 12);
  json.copy(out, 16);
  let p4 = 16 + json.length;
  let p6 = p4 + table.sizeV4 * V4_BYTES;
  table.forEachVrp((family, w0, w1, w2, w3, length, maxLength, asn) => {
    if (family === 4) {
      out.writeUInt32BE(w0, p4);
      out[p4 + 4] = length;
      out[p4 + 5] = maxLength;
      out.writeUInt32BE(asn, p4 + 6);
      p4 += V4_BYTES;
    } else {
      out.writeUInt32BE(w0, p6);
      out.writeUInt32BE(w1, p6 + 4);
      out.writeUInt32BE(w2, p6 + 8);
      out.writeUInt32BE(w3, p6 + 12);
      out[p6 + 16] = length;
      out[p6 + 17] = maxLength;
      out.writeUInt32BE(asn, p6 + 18);
      p6 += V6_BYTES;
    }
  });
  return out;
}

function isUint(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;
}

/** Decodes a state file's bytes; throws a plain Error naming what is wrong. */
export function decodeState(data: Buffer): PersistedState {
  if (data.length < 16 || !data.subarray(0, 8).equals(MAGIC)) throw new Error('not an RTR state file');
  if (data.readUInt32BE(8) !== FORMAT_VERSION)
    throw new Error(`unknown format version ${data.readUInt32BE(8)}`);
  const jsonLength = data.readUInt32BE(12);
  if (16 + jsonLength > data.length) throw new Error('header runs past the end of the file');
  const h = JSON.parse(data.toString('utf8', 16, 16 + jsonLength)) as Record<string, unknown>;
  const { target, sessionId, serial, version, timers, syncedAt, aspas, routerKeys, v4, v6 } = h;
  if (typeof target !== 'string') throw new Error('missing target');
  if (!isUint(sessionId, 0xffff) || !isUint(serial, 0xffffffff) || !isUint(version, 2))
    throw new Error('bad session id, serial or version');
  const t = timers as Partial<Timers> | undefined;
  if (
    t === undefined ||
    !isUint(t.refresh, 2 ** 32) ||
    !isUint(t.retry, 2 ** 32) ||
    !isUint(t.expire, 2 ** 32)
  )
    throw new Error('bad timers');
  if (!isUint(syncedAt, Number.MAX_SAFE_INTEGER)) throw new Error('bad sync time');
  if (!Array.isArray(aspas) || !Array.isArray(routerKeys)) throw new Error('bad ASPA or router key list');
  if (!isUint(v4, 2 ** 31) || !isUint(v6, 2 ** 31)) throw new Error('bad VRP counts');
  let p = 16 + jsonLength;
  if (p + v4 * V4_BYTES + v6 * V6_BYTES !== data.length)
    throw new Error(`file has ${data.length} bytes, header promises ${p + v4 * V4_BYTES + v6 * V6_BYTES}`);
  const vrps = new VrpList(v4 + v6 + 1);
  for (let i = 0; i < v4; i++, p += V4_BYTES)
    vrps.pushV4(data.readUInt32BE(p), data[p + 4]!, data[p + 5]!, data.readUInt32BE(p + 6));
  for (let i = 0; i < v6; i++, p += V6_BYTES)
    vrps.pushV6(
      data.readUInt32BE(p),
      data.readUInt32BE(p + 4),
      data.readUInt32BE(p + 8),
      data.readUInt32BE(p + 12),
      data[p + 16]!,
      data[p + 17]!,
      data.readUInt32BE(p + 18),
    );
  return {
    target,
    sessionId,
    serial,
    version,
    timers: { refresh: t.refresh, retry: t.retry, expire: t.expire },
    syncedAt,
    aspas: aspas as AspaRecord[],
    routerKeys: routerKeys as RouterKeyRecord[],
    vrps,
  };
}

export async function saveState(path: string, header: PersistedHeader, table: VrpTable): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, encodeState(header, table));
    await rename(tmp, path);
  } catch (error) {
    throw new StateFileError(path, { cause: error });
  }
}

/** The persisted state, or undefined when there is no file. */
export async function loadState(path: string): Promise<PersistedState | undefined> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StateFileError(path, { cause: error });
  }
  try {
    return decodeState(data);
  } catch (error) {
    throw new StateFileError(path, { cause: error });
  }
}
