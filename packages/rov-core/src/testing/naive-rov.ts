// A deliberately plain RFC 6811 implementation: a list of VRPs scanned in full, with
// BigInt addresses. Slow and obviously right, it is the oracle the property tests
// hold the trie to.
import { parseOrigin } from '../asn.js';
import { parsePrefix } from '../prefix.js';
import type { RouteValidity } from '../validity.js';

interface NaiveVrp {
  family: 4 | 6;
  address: bigint;
  length: number;
  maxLength: number;
  asn: number;
  key: string;
}

function toBig(prefix: string): { family: 4 | 6; address: bigint; length: number } {
  const p = parsePrefix(prefix);
  const words = p.family === 4 ? [p.words[0]] : p.words;
  let address = 0n;
  for (const w of words) address = (address << 32n) | BigInt(w);
  return { family: p.family, address, length: p.length };
}

export class NaiveRov {
  readonly vrps: NaiveVrp[] = [];

  add(prefix: string, maxLength: number, asn: number): void {
    const p = toBig(prefix);
    this.vrps.push({ ...p, maxLength, asn, key: `${prefix} ${maxLength} ${asn}` });
  }

  /** Removes one copy; false when there was none. */
  remove(prefix: string, maxLength: number, asn: number): boolean {
    const key = `${prefix} ${maxLength} ${asn}`;
    const i = this.vrps.findIndex((v) => v.key === key);
    if (i < 0) return false;
    this.vrps.splice(i, 1);
    return true;
  }

  covering(prefix: string): NaiveVrp[] {
    const route = toBig(prefix);
    const bits = route.family === 4 ? 32 : 128;
    return this.vrps.filter(
      (v) =>
        v.family === route.family &&
        v.length <= route.length &&
        route.address >> BigInt(bits - v.length) === v.address >> BigInt(bits - v.length),
    );
  }

  validate(prefix: string, origin: number | string): RouteValidity {
    const asn = parseOrigin(origin);
    const length = toBig(prefix).length;
    const covering = this.covering(prefix);
    if (covering.length === 0) return 'not-found';
    // RFC 6811 section 2: matched if a covering VRP has the origin AS (never AS 0 or
    // "none") and the route length is at most its maxLength.
    return covering.some((v) => asn !== 0 && v.asn === asn && length <= v.maxLength) ? 'valid' : 'invalid';
  }

  reason(prefix: string, origin: number | string): 'as' | 'length' | undefined {
    if (this.validate(prefix, origin) !== 'invalid') return undefined;
    const asn = parseOrigin(origin);
    return this.covering(prefix).some((v) => asn !== 0 && v.asn === asn) ? 'length' : 'as';
  }

  uniqueKeys(): Set<string> {
    return new Set(this.vrps.map((v) => v.key));
  }
}
