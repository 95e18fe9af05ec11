/**
 * A vitest reporter (added by .ci/run, or `npx vitest run --reporter=default --reporter=./tests/support/file-times.ts`):
 * at the end of the run, each test file's time, slowest first, with its project, so a slow test shows.
 * A file's time is its import (top-level awaits included) plus every test and hook in it; files run two at a
 * time (vitest.config.ts), so the times add up to about twice the run's.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class FileTimes implements Reporter {
  private started = Date.now();

  onTestRunStart(): void {
    this.started = Date.now();
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const rows = modules
      .map((m) => {
        const d = m.diagnostic();
        return { s: (d.collectDuration + d.setupDuration + d.duration) / 1000, project: m.project.name, file: m.relativeModuleId };
      })
      .sort((a, b) => b.s - a.s);
    const lines = ['', 'time per test file, slowest first (s):'];
    for (const r of rows) lines.push(`${r.s.toFixed(1).padStart(8)}  ${r.project.padEnd(8)}  ${r.file}`);
    lines.push(`${rows.reduce((n, r) => n + r.s, 0).toFixed(1).padStart(8)}  in all test files; the run took ${((Date.now() - this.started) / 1000).toFixed(1)} s`, '');
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}
