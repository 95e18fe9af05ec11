/**
 * What a transform run must do (pure): incremental, or a full rebuild of core and why; and which
 * sql/ files changed since they were last applied.
 */
export interface PlanFile {
  file: string;
  sha256: string;
  /** the file fills a table owned by a migration (core.transactions…) instead of defining a view */
  isStep: boolean;
}

export interface PlanInput {
  requested: boolean;
  files: PlanFile[];
  /** sha256 of each file when it was last applied */
  stored: ReadonlyMap<string, string>;
  /** loads the transform processed that are no longer complete (replaced by --force, or failed) */
  processedNotComplete: number[];
  /** complete loads not processed yet */
  pending: number[];
  /** greatest load_id the transform processed, if any */
  maxProcessed: number | undefined;
  /** how many loads the transform processed that are still complete */
  processedComplete: number;
  /** take the incremental path whatever the batch's size (its tests); by default a batch larger than core rebuilds */
  preferIncremental?: boolean;
}

export function changedFiles(files: PlanFile[], stored: ReadonlyMap<string, string>): Set<string> {
  return new Set(files.filter((f) => stored.get(f.file) !== f.sha256).map((f) => f.file));
}

/**
 * Why this run must rebuild core from every complete load, or undefined for an incremental run.
 * A changed file at or before the last step file changes how staged rows become core rows or summaries,
 * so every row is redone. Late, replaced and failed loads do not rebuild: the step files correct core and
 * the summaries for them (a late load's copy takes over, a load that left takes its rows with it).
 */
export function fullReason(input: PlanInput): string | undefined {
  if (input.requested) return 'requested (--full)';
  const hasProcessed = input.maxProcessed !== undefined;
  // nothing processed yet: the bulk path (indexes built after the insert) is the fast way to fill core
  if (!hasProcessed && input.pending.length) return 'first transform (core is empty)';
  // a batch larger than what core holds: rebuilding everything in bulk costs less than merging it row by
  // row (a fresh compose stack whose transform started while files were still arriving: 2 loads, then 281)
  const processed = input.processedComplete;
  if (hasProcessed && !input.preferIncremental && input.pending.length > processed) {
    return `the batch (${input.pending.length} loads) is larger than what core holds (${processed}): a rebuild costs less`;
  }
  const lastStep = input.files.map((f) => f.isStep).lastIndexOf(true);
  if (hasProcessed) {
    for (const f of input.files.slice(0, lastStep + 1)) {
      if (input.stored.get(f.file) !== f.sha256) return `${f.file} changed`;
    }
  }
  return undefined;
}
