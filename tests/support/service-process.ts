/** A service started as a child process (as its container would run it): its JSON event lines, SIGTERM, exit. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface ServiceEvent {
  at: string;
  service: string;
  event: string;
  [field: string]: unknown;
}

export interface ServiceProcess {
  child: ChildProcess;
  events: ServiceEvent[];
  /** stdout lines that were not JSON (must stay empty with --json) */
  otherLines: string[];
  stderr: () => string;
  /** resolves with the first event (now or later) that matches */
  waitFor(match: (e: ServiceEvent) => boolean): Promise<ServiceEvent>;
  /** SIGTERM, then the exit code (null when killed by a signal) */
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
}

export function startService(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): ServiceProcess {
  const child = spawn(process.execPath, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const events: ServiceEvent[] = [];
  const otherLines: string[] = [];
  const waiters: { match: (e: ServiceEvent) => boolean; resolve: (e: ServiceEvent) => void }[] = [];
  let err = '';
  let buffered = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      let event: ServiceEvent;
      try {
        event = JSON.parse(line) as ServiceEvent;
      } catch {
        otherLines.push(line);
        continue;
      }
      events.push(event);
      for (const w of [...waiters]) {
        if (w.match(event)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(event);
        }
      }
    }
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    events,
    otherLines,
    stderr: () => err,
    exited,
    waitFor(match) {
      const found = events.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        void exited.then((code) => reject(new Error(`service exited (${code}) before the awaited event; stderr: ${err}`)));
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Write a file the way a careful producer does: under a hidden name, then renamed into place. */
export function dropFile(dir: string, name: string, content: string | Buffer): string {
  const path = join(dir, name);
  const hidden = join(dirname(path), `.${basename(path)}.part`);
  writeFileSync(hidden, content);
  renameSync(hidden, path);
  return path;
}

/** Resolves when `check` holds (polled); fails at once if one of `running` exits meanwhile; the test's timeout is the bound. */
export async function until(check: () => boolean | Promise<boolean>, running: ServiceProcess[] = []): Promise<void> {
  while (!(await check())) {
    const gone = running.find((s) => s.child.exitCode !== null || s.child.signalCode !== null);
    if (gone) throw new Error(`${gone.child.spawnargs.slice(1).join(' ')} exited (${gone.child.exitCode ?? gone.child.signalCode}) while awaited; stderr: ${gone.stderr()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
