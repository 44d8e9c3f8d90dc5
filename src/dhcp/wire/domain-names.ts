// RFC 1035 domain names in wire format, as used by option 119 (RFC 3397, with compression
// pointers relative to the start of the option payload) and option 81 (RFC 4702, no compression,
// partial names allowed). Functions return an error text instead of throwing, so callers choose the
// error class (DecodeError on the wire, RangeError for config values).

const MAX_NAME_OCTETS = 255;
const MAX_LABEL = 63;
const LABEL_RE = /^[A-Za-z0-9_-]{1,63}$/;

export interface DecodedName {
  /** Dotted labels without a trailing dot. */
  readonly name: string;
  /** Offset just past the name at its original position (after the root label or the first pointer). */
  readonly end: number;
  /** True when the name ended with the root label or a pointer (always true when pointers are allowed). */
  readonly fullyQualified: boolean;
}

/**
 * Reads one name at `start`. With `pointers`, compression pointers must point strictly backwards
 * (so they cannot loop) and a name must end in the root label; without, the data may end before the
 * root label (an RFC 4702 partial name).
 */
export function decodeDomainName(data: Buffer, start: number, pointers: boolean): DecodedName | string {
  let name = '';
  let i = start;
  let end = -1;
  let octets = 1;
  let limit = start; // a pointer must go before the position of the previous pointer's target
  for (;;) {
    if (i >= data.length) {
      if (!pointers && end < 0) return { name, end: i, fullyQualified: false };
      return `name at byte ${start} is truncated`;
    }
    const len = data[i]!;
    if (len === 0) {
      if (end < 0) end = i + 1;
      return { name, end, fullyQualified: true };
    }
    if ((len & 0xc0) === 0xc0) {
      if (!pointers) return `compression pointer at byte ${i} is not allowed here`;
      if (i + 1 >= data.length) return `compression pointer at byte ${i} is truncated`;
      const target = ((len & 0x3f) << 8) | data[i + 1]!;
      if (target >= limit) return `compression pointer at byte ${i} does not point backwards`;
      if (end < 0) end = i + 2;
      limit = target;
      i = target;
      continue;
    }
    if (len > MAX_LABEL) return `label length byte ${len} at byte ${i} is invalid`;
    if (i + 1 + len > data.length) return `label at byte ${i} runs past the end`;
    octets += len + 1;
    if (octets > MAX_NAME_OCTETS) return `name at byte ${start} is longer than ${MAX_NAME_OCTETS} octets`;
    const label = data.toString('latin1', i + 1, i + 1 + len);
    name = name === '' ? label : `${name}.${label}`;
    i += 1 + len;
  }
}

/** Every name in an RFC 3397 list. */
export function decodeDomainList(data: Buffer): string[] | string {
  const names: string[] = [];
  let i = 0;
  while (i < data.length) {
    const r = decodeDomainName(data, i, true);
    if (typeof r === 'string') return r;
    names.push(r.name);
    i = r.end;
  }
  return names;
}

function labelsOf(name: string): string[] | string {
  const t = name.endsWith('.') ? name.slice(0, -1) : name;
  if (t === '') return `empty domain name ${JSON.stringify(name)}`;
  const labels = t.split('.');
  for (const l of labels) {
    if (!LABEL_RE.test(l)) return `bad label ${JSON.stringify(l)} in domain name ${JSON.stringify(name)} (letters, digits, '-', '_'; 1..63 long)`;
  }
  const octets = labels.reduce((n, l) => n + l.length + 1, 1);
  if (octets > MAX_NAME_OCTETS) return `domain name ${JSON.stringify(name)} is longer than ${MAX_NAME_OCTETS} octets`;
  return labels;
}

/** One name without compression; `fullyQualified` adds the root label (RFC 4702 partial names omit it). */
export function encodeDomainName(name: string, fullyQualified: boolean): Buffer | string {
  if (name === '') return Buffer.alloc(fullyQualified ? 1 : 0);
  const labels = labelsOf(name);
  if (typeof labels === 'string') return labels;
  const parts: number[] = [];
  for (const l of labels) { parts.push(l.length); for (let k = 0; k < l.length; k++) parts.push(l.charCodeAt(k)); }
  if (fullyQualified) parts.push(0);
  return Buffer.from(parts);
}

/** An RFC 3397 list, compressing repeated suffixes with pointers (case-insensitively). */
export function encodeDomainList(names: readonly string[]): Buffer | string {
  const out: number[] = [];
  const suffixAt = new Map<string, number>();
  for (const name of names) {
    const labels = labelsOf(name);
    if (typeof labels === 'string') return labels;
    let k = 0;
    for (; k < labels.length; k++) {
      const key = labels.slice(k).join('.').toLowerCase();
      const at = suffixAt.get(key);
      if (at !== undefined) { out.push(0xc0 | (at >> 8), at & 255); break; }
      if (out.length < 0x4000) suffixAt.set(key, out.length);
      const l = labels[k]!;
      out.push(l.length);
      for (let c = 0; c < l.length; c++) out.push(l.charCodeAt(c));
    }
    if (k === labels.length) out.push(0);
  }
  return Buffer.from(out);
}
