/**
 * What a transform run must do (pure): incremental, or a full rebuild of core and why, or incremental
 * plus a rebuild of the part downstream of a changed step file (deps.ts); and which sql/ files changed
 * since they were last applied.
 */
import { rebuildDecision, type RebuildPlan } from './deps.js';

export type { RebuildPlan } from './deps.js';

export interface PlanFile {
  file: string;
  sha256: string;
  /** the file fills a table owned by a migration (core.transactions…) instead of defining a view */
  isStep: boolean;
  /** schema, object and text, from which its dependencies are derived (deps.ts); without them a changed step file rebuilds everything */
  schema?: string;
  object?: string;
  text?: string;
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
 * What this run must do: a full rebuild of core from every complete load and why (fullReason), or an
 * incremental run, which may still rebuild part of core (rebuild). A changed step file whose rebuild needs
 * what only staging gives (the parse, the dedup: sql/001-017) redoes every row; any other changed step file
 * rebuilds only what is downstream of it (deps.ts). Late, replaced and failed loads do not rebuild: the step
 * files correct core and the summaries for them (a late load's copy takes over, a load that left takes its
 * rows with it). The changed files' dependencies are worked out once.
 */
export function planOf(input: PlanInput): { fullReason: string | undefined; rebuild: RebuildPlan | undefined } {
  const full = (reason: string) => ({ fullReason: reason, rebuild: undefined });
  if (input.requested) return full('requested (--full)');
  const hasProcessed = input.maxProcessed !== undefined;
  // nothing processed yet: the bulk path (indexes built after the insert) is the fast way to fill core
  if (!hasProcessed && input.pending.length) return full('first transform (core is empty)');
  // a batch larger than what core holds: rebuilding everything in bulk costs less than merging it row by
  // row (a fresh compose stack whose transform started while files were still arriving: 2 loads, then 281)
  const processed = input.processedComplete;
  if (hasProcessed && !input.preferIncremental && input.pending.length > processed) {
    return full(`the batch (${input.pending.length} loads) is larger than what core holds (${processed}): a rebuild costs less`);
  }
  const d = decide(input.files, input.stored);
  if (hasProcessed && d.kind === 'full') return full(d.reason);
  return { fullReason: undefined, rebuild: d.kind === 'selective' ? d.plan : undefined };
}

/** Why this run must rebuild core from every complete load, or undefined for an incremental run (planOf). */
export function fullReason(input: PlanInput): string | undefined {
  return planOf(input).fullReason;
}

/** For a run that is not full: the part a changed step file makes it rebuild, if any (planOf). */
export function rebuildPlan(input: PlanInput): RebuildPlan | undefined {
  return planOf(input).rebuild;
}

function decide(files: PlanFile[], stored: ReadonlyMap<string, string>) {
  if (files.some((f) => f.isStep && stored.get(f.file) !== f.sha256 && f.text === undefined)) {
    const first = files.find((f) => f.isStep && stored.get(f.file) !== f.sha256)!;
    return { kind: 'full' as const, reason: `${first.file} changed` };
  }
  const sha = new Map(files.map((f) => [f.file, f.sha256]));
  return rebuildDecision(
    files.map((f) => ({ file: f.file, schema: f.schema ?? '', object: f.object ?? '', text: f.text ?? '', isStep: f.isStep })),
    stored,
    (f) => sha.get(f.file)!,
  );
}
