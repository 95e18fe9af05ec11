/**
 * Run one command and measure it: wall time, exit code, output, and the peak resident memory of
 * its process tree (polled from /proc every 25 ms: the root's VmHWM, or the largest sum of VmRSS
 * over the tree when it has children). Linux only for memory; elsewhere peakRssMb is null.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Measured {
  seconds: number;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  peakRssMb: number | null;
}

function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function tree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...children(out[i]!));
  return out;
}

export function measure(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-65536)));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-65536)));
    let peakKb = 0;
    let seen = false;
    const poll = () => {
      if (child.pid === undefined) return;
      const pids = tree(child.pid);
      const hwm = statusKb(child.pid, 'VmHWM');
      const sum = pids.length > 1 ? pids.reduce((s, p) => s + (statusKb(p, 'VmRSS') ?? 0), 0) : 0;
      if (hwm !== null) (seen = true), (peakKb = Math.max(peakKb, hwm, sum));
    };
    const timer = setInterval(poll, 25);
    poll();
    child.on('error', (err) => {
      clearInterval(timer);
      reject(err);
    });
    child.on('exit', () => poll());
    child.on('close', (code) => {
      clearInterval(timer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      resolve({ seconds, exitCode: code, stdout, stderr, peakRssMb: seen ? peakKb / 1024 : null });
    });
  });
}
