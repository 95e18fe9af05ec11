/**
 * The generated calendar: day 0 is the first day of the real data (2010-12-01); each calendar day
 * has a number of invoices fixed by its weekday and month (the real rates, closed on Saturdays)
 * times a per-day random factor and the volume option. Invoice numbers run on across days, so any
 * day can be generated on its own (`--from`) and numbers never collide between separate runs.
 */
import type { Calibration } from './calibration.js';
import { hashUnit } from './random.js';

export const EPOCH = Date.UTC(2010, 11, 1);
export const FIRST_INVOICE_NO = 536365;
const DAY_MS = 86_400_000;

export function dayOf(isoDate: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(isoDate);
  const t = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!Number.isFinite(t) || new Date(t).toISOString().slice(0, 10) !== isoDate) throw new RangeError(`not a date: ${isoDate}`);
  return Math.round((t - EPOCH) / DAY_MS);
}

export function isoDay(day: number): string {
  return new Date(EPOCH + day * DAY_MS).toISOString().slice(0, 10);
}

/** 'HH:MM:00' for every minute of the day */
export const CLOCK: string[] = Array.from({ length: 1440 }, (_, m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}:00`);

export class Calendar {
  private cursorDay = 0;
  private cursorSerial = 0;

  constructor(
    private readonly cal: Calibration,
    private readonly seed: number,
    private readonly volume: number,
  ) {}

  invoicesOn(day: number): number {
    if (day < 0) return 0;
    const date = new Date(EPOCH + day * DAY_MS);
    const rate = this.cal.invoicesPerTradingDay * this.cal.weekdays[date.getUTCDay()]! * this.cal.months[date.getUTCMonth()]!;
    return Math.round(rate * this.volume * (0.7 + 0.6 * hashUnit(this.seed, day, 0x1d)));
  }

  /** serial (0-based) of the first invoice of the day: the invoices of all days before it */
  firstSerial(day: number): number {
    if (day < this.cursorDay) (this.cursorDay = 0), (this.cursorSerial = 0);
    while (this.cursorDay < day) this.cursorSerial += this.invoicesOn(this.cursorDay++);
    return this.cursorSerial;
  }
}
