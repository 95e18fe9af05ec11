/**
 * One CSV record → its fields, and a field → CSV again (pure). The rules are PostgreSQL's COPY CSV
 * rules, which are RFC 4180's made lenient: a `"` anywhere opens or closes a quoted section, `""`
 * inside one is a literal quote, and a field with no quote at all that is empty is NULL.
 */

export interface Field {
  /** the value's bytes, quotes removed and `""` undone */
  value: Buffer;
  /** true when the field had a quote (then an empty value is '' rather than NULL) */
  quoted: boolean;
}

const QUOTE = 0x22;
const COMMA = 0x2c;

/** The fields of the record buf[start, end) (without its line terminator). */
export function splitFields(buf: Buffer, start: number, end: number): Field[] {
  const fields: Field[] = [];
  const out = Buffer.allocUnsafe(end - start);
  let o = 0;
  let fieldStart = 0;
  let inQuote = false;
  let quoted = false;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (inQuote) {
      if (c === QUOTE) {
        if (i + 1 < end && buf[i + 1] === QUOTE) {
          out[o++] = QUOTE;
          i++;
        } else inQuote = false;
      } else out[o++] = c;
    } else if (c === COMMA) {
      fields.push({ value: Buffer.from(out.subarray(fieldStart, o)), quoted });
      fieldStart = o;
      quoted = false;
    } else if (c === QUOTE) {
      inQuote = true;
      quoted = true;
    } else out[o++] = c;
  }
  fields.push({ value: Buffer.from(out.subarray(fieldStart, o)), quoted });
  return fields;
}

/** Bytes needed at most to write `fields` with writeFields. */
export function maxWrittenLength(fields: Field[]): number {
  let n = fields.length;
  for (const f of fields) n += 2 * f.value.length + 2;
  return n;
}

/** Write fields as one CSV record (no terminator) at out[pos]; returns the new position. NULL stays NULL. */
export function writeFields(out: Buffer, pos: number, fields: Field[]): number {
  let o = pos;
  fields.forEach((f, k) => {
    if (k > 0) out[o++] = COMMA;
    if (f.value.length === 0 && !f.quoted) return;
    out[o++] = QUOTE;
    for (const c of f.value) {
      out[o++] = c;
      if (c === QUOTE) out[o++] = QUOTE;
    }
    out[o++] = QUOTE;
  });
  return o;
}
