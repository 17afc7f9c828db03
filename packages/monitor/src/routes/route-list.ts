// Route list files: what an operator says its routes are. Three shapes:
//
//   text   "prefix origin [group [description...]]" lines; # comments, blank lines
//   YAML   BGPalerter's prefixes.yml: prefix -> { asn, description, group, ignore }
//   JSON   the same mapping, or a list of { prefix, asn, description, group }
//
// `asn` is one origin or a list of the origins allowed to announce the prefix; each
// (prefix, origin) pair becomes a route. Every error names the file, the line and the
// reason. JSON goes through the YAML parser (YAML 1.2 reads JSON), which gives every
// node its line. A line longer than the limit is refused with its number, while reading
// the file: a file without newlines costs one chunk plus the limit, not its size.
import { createReadStream } from 'node:fs';
import {
  AsnError,
  parseAsn,
  parsePrefixInto,
  PrefixError,
  quoteInput,
  safeMessage,
  type Family,
} from '@rovkit/core';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { RouteFileError } from '../errors.js';

export interface RouteEntry {
  readonly family: Family;
  readonly w0: number;
  readonly w1: number;
  readonly w2: number;
  readonly w3: number;
  readonly length: number;
  readonly prefix: string;
  /** The origin AS; 0 with isSet for "none" (an AS_SET origin). */
  readonly origin: number;
  readonly isSet: boolean;
  readonly group: string;
  readonly description: string;
  readonly line: number;
}

export type RouteListFormat = 'text' | 'yaml' | 'json';

/** Group of entries that name none. */
export const DEFAULT_ROUTE_GROUP = 'own';

/** The format of `file`: by extension, else JSON when it starts with { or [, else text. */
export function routeListFormat(file: string, text: string): RouteListFormat {
  const lower = file.toLowerCase();
  if (lower.endsWith('.yml') || lower.endsWith('.yaml')) return 'yaml';
  if (lower.endsWith('.json')) return 'json';
  const first = /\S/.exec(text)?.[0];
  return first === '{' || first === '[' ? 'json' : 'text';
}

/**
 * The longest line of a route list accepted, in bytes before the newline: 1 MiB, as JSON
 * written compactly is one line (about 70 bytes a route).
 */
export const DEFAULT_ROUTE_LINE_LIMIT = 1_048_576;

/** Parses a route list; throws RouteFileError (file, line, reason) on the first bad entry. */
export function parseRouteList(
  file: string,
  text: string,
  format = routeListFormat(file, text),
  lineLimit = DEFAULT_ROUTE_LINE_LIMIT,
): RouteEntry[] {
  // For a string the limit counts characters (never more than the bytes of the file).
  let line = 1;
  for (let start = 0; start <= text.length; line++) {
    const nl = text.indexOf('\n', start);
    const end = nl < 0 ? text.length : nl;
    if (end - start > lineLimit) throw tooLong(file, line, lineLimit);
    if (nl < 0) break;
    start = nl + 1;
  }
  return parse(file, text, format);
}

/** Reads and parses a route list file, refusing a line over `lineLimit` bytes as it reads. */
export async function readRouteList(
  file: string,
  lineLimit = DEFAULT_ROUTE_LINE_LIMIT,
): Promise<RouteEntry[]> {
  const chunks: Buffer[] = [];
  let line = 1;
  let length = 0;
  const input = createReadStream(file, { highWaterMark: 1 << 16 });
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      for (let from = 0; ;) {
        const nl = chunk.indexOf(0x0a, from);
        length += (nl < 0 ? chunk.length : nl) - from;
        if (length > lineLimit) throw tooLong(file, line, lineLimit);
        if (nl < 0) break;
        line++;
        length = 0;
        from = nl + 1;
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof RouteFileError) throw error;
    throw new RouteFileError(file, undefined, `cannot read: ${(error as Error).message}`, { cause: error });
  } finally {
    input.destroy();
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return parse(file, text, routeListFormat(file, text));
}

function tooLong(file: string, line: number, limit: number): RouteFileError {
  return new RouteFileError(file, line, `a line longer than the limit of ${limit} bytes`);
}

function parse(file: string, text: string, format: RouteListFormat): RouteEntry[] {
  return format === 'text' ? parseText(file, text) : parseStructured(file, text);
}

const scratch = new Uint32Array(4);

function entry(
  file: string,
  line: number,
  prefix: string,
  origin: string | number,
  group: string,
  description: string,
): RouteEntry {
  let code: number;
  try {
    code = parsePrefixInto(prefix, scratch);
  } catch (error) {
    if (error instanceof PrefixError)
      throw new RouteFileError(file, line, safeMessage(error.message), { cause: error });
    throw error;
  }
  let asn = 0;
  const isSet = typeof origin === 'string' && origin.toLowerCase() === 'none';
  if (!isSet) {
    try {
      asn = parseAsn(origin);
    } catch (error) {
      if (error instanceof AsnError)
        throw new RouteFileError(file, line, safeMessage(error.message), { cause: error });
      throw error;
    }
  }
  if (group === '' || /\s/.test(group))
    throw new RouteFileError(
      file,
      line,
      `invalid group ${quoteInput(group)}: expected a word such as own or customer:NAME`,
    );
  return {
    family: code >= 256 ? 6 : 4,
    w0: scratch[0]!,
    w1: scratch[1]!,
    w2: scratch[2]!,
    w3: scratch[3]!,
    length: code & 255,
    prefix,
    origin: asn,
    isSet,
    group,
    description,
    line,
  };
}

function parseText(file: string, text: string): RouteEntry[] {
  const entries: RouteEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const hash = lines[i]!.indexOf('#');
    const line = (hash >= 0 ? lines[i]!.slice(0, hash) : lines[i]!).trim();
    if (line === '') continue;
    const fields = line.split(/\s+/);
    if (fields.length < 2)
      throw new RouteFileError(
        file,
        i + 1,
        `expected "prefix origin [group [description]]", got ${quoteInput(line)}`,
      );
    entries.push(
      entry(file, i + 1, fields[0]!, fields[1]!, fields[2] ?? DEFAULT_ROUTE_GROUP, fields.slice(3).join(' ')),
    );
  }
  return entries;
}

// A YAML value in a message: strings quoted short and escaped, structures by their kind
// (JSON.stringify would write them whole, and throws on an alias cycle).
function shownValue(value: unknown): string {
  if (typeof value === 'string') return quoteInput(value);
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return Array.isArray(value) ? 'a list' : 'a mapping';
  return safeMessage(String(value), 80);
}

function parseStructured(file: string, text: string): RouteEntry[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first !== undefined) {
    const line = first.linePos?.[0]?.line ?? lines.linePos(first.pos[0]).line;
    throw new RouteFileError(file, line, safeMessage(first.message.split('\n')[0]!), { cause: first });
  }
  const lineOf = (node: Node | null | undefined): number =>
    node?.range === undefined || node.range === null ? 1 : lines.linePos(node.range[0]).line;
  const entries: RouteEntry[] = [];
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) return entries;

  const add = (prefixNode: Node | null, prefix: unknown, body: Node | null, line: number): void => {
    if (typeof prefix !== 'string')
      throw new RouteFileError(file, lineOf(prefixNode), `expected a prefix, got ${shownValue(prefix)}`);
    const shown = safeMessage(prefix, 80);
    if (!isMap(body))
      throw new RouteFileError(
        file,
        lineOf(body) || line,
        `${shown}: expected a mapping with asn, description, group`,
      );
    const known = new Set(['prefix', 'asn', 'description', 'group', 'ignore', 'ignoreMorespecifics', 'path']);
    for (const pair of body.items) {
      const key = isScalar(pair.key) ? pair.key.value : undefined;
      if (typeof key !== 'string' || !known.has(key))
        throw new RouteFileError(
          file,
          lineOf(pair.key as Node),
          `${shown}: unknown key ${shownValue(key)} (expected asn, description, group, ignore)`,
        );
    }
    if (body.get('ignore') === true) return;
    const asnNode = body.get('asn', true) as Node | undefined;
    if (asnNode === undefined) throw new RouteFileError(file, line, `${shown}: asn is missing`);
    const origins: { value: unknown; node: Node }[] = isSeq(asnNode)
      ? asnNode.items.map((n) => ({ value: isScalar(n) ? n.value : undefined, node: n as Node }))
      : [{ value: isScalar(asnNode) ? asnNode.value : undefined, node: asnNode }];
    if (origins.length === 0)
      throw new RouteFileError(file, lineOf(asnNode), `${shown}: asn is an empty list`);
    const description = body.get('description');
    if (description !== undefined && description !== null && typeof description !== 'string')
      throw new RouteFileError(
        file,
        lineOf(body.get('description', true) as Node),
        `${shown}: description must be text`,
      );
    let group: unknown = body.get('group');
    // BGPalerter allows a list of groups; a route has one here, the first.
    if (isSeq(body.get('group', true)))
      group = (body.get('group') as { items: { value: unknown }[] }).items[0]?.value;
    if (group !== undefined && typeof group !== 'string')
      throw new RouteFileError(file, lineOf(body.get('group', true) as Node), `${shown}: group must be text`);
    for (const o of origins) {
      if (typeof o.value !== 'number' && typeof o.value !== 'string')
        throw new RouteFileError(file, lineOf(o.node), `${shown}: asn must be a number or "AS<number>"`);
      entries.push(
        entry(file, lineOf(o.node), prefix, o.value, group ?? DEFAULT_ROUTE_GROUP, description ?? ''),
      );
    }
  };

  if (isMap(root)) {
    for (const pair of root.items) {
      const key = isScalar(pair.key) ? pair.key.value : undefined;
      // BGPalerter keeps its monitoring options beside the prefixes.
      if (key === 'options') continue;
      add(pair.key as Node, key, pair.value as Node | null, lineOf(pair.key as Node));
    }
  } else if (isSeq(root)) {
    for (const item of root.items) {
      if (!isMap(item)) throw new RouteFileError(file, lineOf(item as Node), 'expected { prefix, asn, ... }');
      const prefixNode = item.get('prefix', true) as Node | undefined;
      if (prefixNode === undefined) throw new RouteFileError(file, lineOf(item), 'prefix is missing');
      add(prefixNode, isScalar(prefixNode) ? prefixNode.value : undefined, item, lineOf(item));
    }
  } else {
    throw new RouteFileError(file, lineOf(root), 'expected a mapping of prefixes or a list of routes');
  }
  return entries;
}
