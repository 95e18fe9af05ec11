/**
 * The row writer: walks the calendar day by day, draws each day's invoices (invoices.ts), and
 * yields the CSV text in pieces of about 1 MiB (never crossing a day, so `--split-by-day` can start
 * a file per day). Deterministic: every day has its own random stream derived from (seed, day).
 * With `dirty` > 0 it replaces records by defects (dirty.ts) from a separate stream and counts all.
 */
import { CLOCK, Calendar, isoDay } from './calendar.js';
import { DRAWN, physicalLines, renderDefect, type Defect, type Fields } from './dirty.js';
import { POSITIONS_PER_KIND, Tally, type LineKind, type Manifest } from './manifest.js';
import { InvoiceDrawer, type Emit } from './invoices.js';
import type { Model } from './model.js';
import { Rng } from './random.js';

export const HEADER = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n';
const PIECE = 1 << 20;
/** per-file counts are kept for this many files (split by day); later files count in the total only */
export const MAX_LISTED_FILES = 10_000;

export interface GenerateOptions {
  seed: number;
  /** stop after this many records (the last day is cut) */
  rows?: number;
  /** stop after this many days that have records */
  days?: number;
  /** first calendar day (0 = 2010-12-01) */
  from: number;
  /** multiplies the real number of invoices per day */
  volume: number;
  /** share of records replaced by a drawn defect or variant (needs rows) */
  dirty: number;
  /** one file per day: line numbers (and the per-file counts) restart each day */
  splitByDay: boolean;
}

export interface Piece {
  day: number;
  /** text (or the bytes of a record holding invalid UTF-8); the header is not included */
  data: string | Buffer;
}

export class RowGenerator {
  readonly total = new Tally();
  readonly files: { day: number; tally: Tally }[] = [];
  readonly positions: Manifest['positions'] = {};
  private rng = new Rng(0);
  private readonly drng: Rng;
  private readonly drawer: InvoiceDrawer;
  private readonly emitter: Emit = (inv, code, desc, qty, date, price, cust, country, kind) => this.emit(inv, code, desc, qty, date, price, cust, country, kind);
  private buf = '';
  private out: Piece[] = [];
  private day = 0;
  private file: Tally = new Tally();
  private line = 1;
  private readonly limit: number;
  private readonly tooLargeAt: number;
  private readonly fields: Fields = ['', '', '', '', '', '', '', ''];

  constructor(
    private readonly model: Model,
    private readonly calendar: Calendar,
    private readonly o: GenerateOptions,
  ) {
    this.drawer = new InvoiceDrawer(model);
    this.limit = o.rows ?? Infinity;
    this.drng = new Rng(o.seed, 0x0d1e7);
    this.tooLargeAt = o.dirty > 0 && this.limit >= 3 ? Math.floor(this.limit / 2) : -1;
  }

  /** files started so far (one, or one per day) */
  fileCount = 0;
  /** days that have records so far, the first and the last of them */
  days = 0;
  firstDay = -1;
  lastDay = -1;

  get done(): boolean {
    return this.total.rows >= this.limit || (this.o.days !== undefined && this.days >= this.o.days);
  }

  *pieces(): Generator<Piece> {
    for (let day = this.o.from; !this.done; day++) {
      const invoices = this.calendar.invoicesOn(day);
      if (invoices === 0) continue;
      this.startDay(day);
      const serial = this.calendar.firstSerial(day);
      const minutes = new Int32Array(invoices);
      for (let i = 0; i < invoices; i++) minutes[i] = this.model.hours.sample(this.rng) * 60 + this.rng.int(60);
      minutes.sort();
      const prefix = isoDay(day) + ' ';
      for (let i = 0; i < invoices && this.total.rows < this.limit; i++) {
        this.drawer.draw(this.rng, serial + i, prefix + CLOCK[minutes[i]!]!, this.emitter);
        if (this.out.length) {
          yield* this.out; // full pieces go as soon as they are full: memory stays flat at any --volume
          this.out = [];
        }
      }
      this.flush();
      yield* this.out;
      this.out = [];
    }
  }

  private startDay(day: number): void {
    this.day = day;
    this.rng = new Rng(this.o.seed, day);
    this.days++;
    if (this.firstDay < 0) this.firstDay = day;
    this.lastDay = day;
    if (this.o.splitByDay || this.files.length === 0) {
      this.file = new Tally();
      this.fileCount++;
      if (this.files.length < MAX_LISTED_FILES) this.files.push({ day, tally: this.file }); // memory stays flat at any N
      this.line = 1; // the header
    }
  }

  private emit(inv: string, code: string, desc: string, qty: string, date: string, price: string, cust: string, country: string, kind: LineKind): void {
    if (this.total.rows >= this.limit) return;
    const o = this.o;
    let defect: Defect | undefined;
    if (o.dirty > 0) {
      const at = this.total.rows;
      if (at === this.limit - 1) defect = 'unterminated_quote';
      else if (at === this.tooLargeAt) defect = 'record_too_large';
      else if (this.drng.next() < o.dirty) defect = DRAWN[this.drng.int(DRAWN.length)];
    }
    let record: string | Buffer;
    if (defect === undefined) record = inv + ',' + code + ',' + desc + ',' + qty + ',' + date + ',' + price + ',' + cust + ',' + country + '\n';
    else {
      const f = this.fields;
      (f[0] = inv), (f[1] = code), (f[2] = desc), (f[3] = qty), (f[4] = date), (f[5] = price), (f[6] = cust), (f[7] = country);
      record = renderDefect(defect, f, this.drng.u32());
      this.note(defect);
    }
    const lines = defect === undefined ? 1 : physicalLines(record);
    this.write(record, lines);
    this.total.record(defect, kind);
    this.file.record(defect, kind);
    // an exact copy of a clean record, at the real duplicate rate (always drawn, so a dirty file differs from
    // the clean one only where defects are); never on the slots reserved for the placed defects
    const again = this.rng.next() < this.model.cal.duplicateRate;
    const next = this.total.rows;
    const room = next < this.limit && next !== this.tooLargeAt && !(o.dirty > 0 && next === this.limit - 1);
    if (again && room && typeof record === 'string' && (defect === undefined || isCleanVariant(defect))) {
      this.write(record, lines);
      this.total.duplicate();
      this.file.duplicate();
    }
  }

  private write(record: string | Buffer, lines: number): void {
    if (typeof record === 'string') {
      this.buf += record;
      if (this.buf.length >= PIECE) this.flush();
    } else {
      this.flush();
      this.out.push({ day: this.day, data: record });
    }
    this.line += lines;
  }

  private note(defect: Defect): void {
    const list = (this.positions[defect] ??= []);
    if (list.length < POSITIONS_PER_KIND) list.push({ file: this.fileCount - 1, line: this.line + 1 });
  }

  private flush(): void {
    if (this.buf.length) this.out.push({ day: this.day, data: this.buf });
    this.buf = '';
  }
}

function isCleanVariant(d: Defect): boolean {
  return d === 'padded' || d === 'quoted_newline' || d === 'us_date' || d === 'plain_customer_id';
}
