import { EXIT } from '../errors.js';

/**
 * The one place errors are caught: a user error (anything with an exitCode) prints one line
 * and sets its code; anything else is a bug and keeps its stack. Uses process.exitCode, never exit().
 */
export function runMain(name: string, main: () => Promise<number | void>): void {
  main().then(
    (code) => {
      process.exitCode = code ?? EXIT.ok;
    },
    (err: unknown) => {
      const e = err as { exitCode?: unknown; message?: string; code?: string; stack?: string };
      if (typeof e?.exitCode === 'number') {
        process.stderr.write(`${name}: ${e.message}\n`);
        process.exitCode = e.exitCode;
      } else if (typeof e?.code === 'string' && /^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|28P01|28000|3D000)$/.test(e.code)) {
        process.stderr.write(`${name}: cannot connect to the database: ${e.message}\n`);
        process.exitCode = EXIT.usage;
      } else {
        process.stderr.write(`${name}: internal error: ${e?.stack ?? String(err)}\n`);
        process.exitCode = EXIT.failed;
      }
    },
  );
}
