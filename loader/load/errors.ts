/** An error of one source the user can act on (bad header, HTTP 404, broken gzip…): reported as one line, never a stack. */
export class LoadError extends Error {
  constructor(
    message: string,
    /** the physical line it concerns, when there is one */
    readonly line?: number,
  ) {
    super(line === undefined ? message : `line ${line}: ${message}`);
    this.name = 'LoadError';
  }
}
