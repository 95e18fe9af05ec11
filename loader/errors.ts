/** An error the user can fix: printed as one line, never with a stack trace. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 2,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Exit codes shared by every command. */
export const EXIT = {
  ok: 0,
  /** some source or step failed; the rest was done */
  failed: 1,
  /** usage or configuration error */
  usage: 2,
  /** another run holds the lock and --no-wait was given */
  busy: 3,
} as const;
