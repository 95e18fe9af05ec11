/**
 * Which inbox files are complete: pure bookkeeping over successive directory listings, no I/O.
 * A file is complete when its size and modification time are the same on two listings at least
 * `settleMs` apart; it is handed over once per version (size + mtime), and offered again if it changes.
 */
export interface Observation {
  name: string;
  size: number;
  mtimeMs: number;
}

/** Files the inbox considers: `.csv`, `.json`, `.jsonl`, `.ndjson`, each also `.gz` (any case), not hidden (`.name` is how writers stage a file before renaming it). */
export function isInboxFile(name: string): boolean {
  return !name.startsWith('.') && /\.(csv|json|jsonl|ndjson)(\.gz)?$/i.test(name);
}

const signature = (o: Observation) => `${o.size}:${o.mtimeMs}`;

interface Seen {
  sig: string;
  /** when this signature was first observed */
  since: number;
}

export class Settler {
  private readonly seen = new Map<string, Seen>();
  /** name → signature already handed over */
  private readonly handed = new Map<string, string>();
  /** name → time before which the file is not offered again (a failed attempt) */
  private readonly notBefore = new Map<string, number>();

  constructor(private readonly settleMs: number) {}

  /** Feed one listing taken at `now`; returns the files that are complete and not yet handed over, in name order. */
  observe<T extends Observation>(listing: readonly T[], now: number): T[] {
    const present = new Set(listing.map((o) => o.name));
    for (const map of [this.seen, this.handed, this.notBefore]) {
      for (const name of map.keys()) if (!present.has(name)) map.delete(name); // gone: forget it
    }
    const ready: T[] = [];
    for (const o of listing) {
      const sig = signature(o);
      const before = this.seen.get(o.name);
      if (!before || before.sig !== sig) {
        this.seen.set(o.name, { sig, since: now });
        if (this.handed.get(o.name) !== sig) this.notBefore.delete(o.name); // a new version gets a fresh start
        continue;
      }
      if (now - before.since < this.settleMs) continue;
      if (this.handed.get(o.name) === sig) continue;
      if ((this.notBefore.get(o.name) ?? 0) > now) continue;
      ready.push(o);
    }
    return ready.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The file was dealt with (loaded, skipped, or failed for good): not offered again while unchanged. */
  done(o: Observation): void {
    this.handed.set(o.name, signature(o));
    this.notBefore.delete(o.name);
  }

  /** The attempt failed for a reason that may pass: offer the file again from `at` on. */
  retryAt(o: Observation, at: number): void {
    this.handed.delete(o.name);
    this.notBefore.set(o.name, at);
  }
}
