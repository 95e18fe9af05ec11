/**
 * JSON grammar at the byte level (pure): where a value ends, checked strictly (RFC 8259), and a string's
 * escapes undone into CSV-quoted bytes. The record parser (json-record.ts) is built on these.
 */

export const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** b[i] when i < end, else -1 (never a byte past the record). */
export function at(b: Buffer, i: number, end: number): number {
  return i < end ? b[i]! : -1;
}

export function skipWs(b: Buffer, i: number, end: number): number {
  while (i < end && isWs(b[i]!)) i++;
  return i;
}

/** Thrown inside the parser: the bytes are not valid JSON. */
export const INVALID = -1;

/** String starting at b[i] === '"': index after its closing quote, or INVALID. `esc[0]` = 1 when it has escapes. */
export function endOfString(b: Buffer, i: number, end: number, esc: Uint8Array): number {
  esc[0] = 0;
  for (let k = i + 1; k < end; k++) {
    const c = b[k]!;
    if (c === QUOTE) return k + 1;
    if (c < 0x20) return INVALID;
    if (c === BACKSLASH) {
      esc[0] = 1;
      const e = ++k < end ? b[k] : -1;
      if (e === 0x75) {
        for (let h = 1; h <= 4; h++) if (k + h >= end || !isHex(b[k + h])) return INVALID;
        k += 4;
      } else if (e !== QUOTE && e !== BACKSLASH && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) return INVALID;
    }
  }
  return INVALID;
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}

const isDigit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;

/** Number at b[i]: index after it, or INVALID (`-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`). */
export function endOfNumber(b: Buffer, i: number, end: number): number {
  let k = i;
  if (at(b, k, end) === 0x2d) k++;
  if (k >= end || !isDigit(b[k])) return INVALID;
  if (b[k] === 0x30) k++;
  else while (k < end && isDigit(b[k])) k++;
  if (k < end && b[k] === 0x2e) {
    k++;
    if (k >= end || !isDigit(b[k])) return INVALID;
    while (k < end && isDigit(b[k])) k++;
  }
  if (k < end && (b[k] === 0x65 || b[k] === 0x45)) {
    k++;
    if (k < end && (b[k] === 0x2b || b[k] === 0x2d)) k++;
    if (k >= end || !isDigit(b[k])) return INVALID;
    while (k < end && isDigit(b[k])) k++;
  }
  return k;
}

function literal(b: Buffer, i: number, end: number, word: string): number {
  if (i + word.length > end) return INVALID;
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) return INVALID;
  return i + word.length;
}

export const endOfLiteral = literal;

const scratch = new Uint8Array(1);

/** Any value at b[i] (after whitespace): index after it, or INVALID. Depth-limited (a hostile nesting is invalid). */
export function endOfValue(b: Buffer, i: number, end: number, depth = 0): number {
  if (depth > 512 || i >= end) return INVALID;
  const c = b[i]!;
  if (c === QUOTE) return endOfString(b, i, end, scratch);
  if (c === 0x7b || c === 0x5b) {
    const close = c === 0x7b ? 0x7d : 0x5d;
    let k = skipWs(b, i + 1, end);
    if (at(b, k, end) === close) return k + 1;
    for (;;) {
      if (c === 0x7b) {
        if (at(b, k, end) !== QUOTE) return INVALID;
        k = endOfString(b, k, end, scratch);
        if (k < 0) return INVALID;
        k = skipWs(b, k, end);
        if (at(b, k, end) !== 0x3a) return INVALID;
        k = skipWs(b, k + 1, end);
      }
      k = endOfValue(b, k, end, depth + 1);
      if (k < 0) return INVALID;
      k = skipWs(b, k, end);
      if (at(b, k, end) === close) return k + 1;
      if (at(b, k, end) !== 0x2c) return INVALID;
      k = skipWs(b, k + 1, end);
    }
  }
  if (c === 0x74) return literal(b, i, end, 'true');
  if (c === 0x66) return literal(b, i, end, 'false');
  if (c === 0x6e) return literal(b, i, end, 'null');
  return endOfNumber(b, i, end);
}

/**
 * The string b[i, stop) (quotes included, escapes valid) written CSV-quoted at out[o]: escapes undone
 * into UTF-8, `"` doubled. Returns the new position, or INVALID for a lone surrogate, -2 for a NUL.
 */
export function writeUnescaped(b: Buffer, i: number, stop: number, out: Buffer, o: number): number {
  out[o++] = QUOTE;
  for (let k = i + 1; k < stop - 1; k++) {
    let c = b[k]!;
    if (c !== BACKSLASH) {
      out[o++] = c;
      if (c === QUOTE) out[o++] = QUOTE;
      continue;
    }
    c = b[++k]!;
    if (c === 0x75) {
      let cp = parseInt(b.toString('latin1', k + 1, k + 5), 16);
      k += 4;
      if (cp >= 0xd800 && cp <= 0xdbff) {
        const lo = b[k + 1] === BACKSLASH && b[k + 2] === 0x75 ? parseInt(b.toString('latin1', k + 3, k + 7), 16) : NaN;
        if (!(lo >= 0xdc00 && lo <= 0xdfff)) return INVALID;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        k += 6;
      } else if (cp >= 0xdc00 && cp <= 0xdfff) return INVALID;
      if (cp === 0) return -2;
      o += out.write(String.fromCodePoint(cp), o, 'utf8');
      if (cp === QUOTE) out[o++] = QUOTE;
    } else {
      const v = c === 0x6e ? 0x0a : c === 0x72 ? 0x0d : c === 0x74 ? 0x09 : c === 0x62 ? 0x08 : c === 0x66 ? 0x0c : c;
      out[o++] = v;
      if (v === QUOTE) out[o++] = QUOTE;
    }
  }
  out[o++] = QUOTE;
  return o;
}
