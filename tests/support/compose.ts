/**
 * Reading the deployment files without Docker: docker-compose.yml (with compose's variable
 * interpolation), .env.example, the Dockerfile's instructions and .dockerignore.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'yaml';

import { projectRoot } from '../../loader/paths.js';

export type Vars = Record<string, string | undefined>;

/** KEY=VALUE lines of an env file (comments and blank lines skipped). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.trim();
  }
  return out;
}

const reference = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** Every variable a compose string refers to, and whether it is required (`:?` / `?`). */
export function references(text: string): { name: string; required: boolean }[] {
  return [...text.matchAll(reference)]
    .filter((m) => m[0] !== '$$')
    .map((m) => ({ name: (m[1] ?? m[4])!, required: (m[2] ?? '').endsWith('?') }));
}

/** Compose interpolation: `$$` is a literal `$`; `${V:-d}`/`${V-d}` defaults; `${V:?e}`/`${V?e}` require a value. */
export function interpolate(text: string, vars: Vars): string {
  return text.replace(reference, (whole, braced?: string, op?: string, arg?: string, bare?: string) => {
    if (whole === '$$') return '$';
    const name = (braced ?? bare)!;
    const value = vars[name];
    const empty = value === undefined || (op?.startsWith(':') && value === '');
    if (op?.endsWith('-')) return empty ? (arg ?? '') : value!;
    if (op?.endsWith('?') && empty) throw new Error(`${name}: ${arg}`);
    return value ?? '';
  });
}

/** Apply `interpolate` to every string of a parsed YAML value. */
export function interpolateAll<T>(value: T, vars: Vars): T {
  if (typeof value === 'string') return interpolate(value, vars) as T;
  if (Array.isArray(value)) return value.map((v) => interpolateAll(v, vars)) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v, vars)])) as T;
  return value;
}

/** Every string in a parsed YAML value (keys excluded). */
export function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

export interface Service {
  image?: string;
  build?: string | { context: string; dockerfile?: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: (string | { type: string; source: string; target: string; read_only?: boolean })[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  restart?: string;
  init?: boolean;
  stop_grace_period?: string;
}

export interface Compose {
  name?: string;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

export const readProjectFile = (path: string): string => readFileSync(join(projectRoot, path), 'utf8');

export function loadCompose(): Compose {
  return parse(readProjectFile('docker-compose.yml'), { merge: true }) as Compose;
}

export function loadEnvExample(): Record<string, string> {
  return parseEnvFile(readProjectFile('.env.example'));
}

export interface Instruction {
  /** upper-case keyword: FROM, RUN, COPY, … */
  op: string;
  args: string;
  /** index of the build stage (0-based) */
  stage: number;
}

/** Dockerfile instructions: comments dropped, `\` continuations joined, each tagged with its stage. */
export function parseDockerfile(text: string): { instructions: Instruction[]; stages: { name?: string; image: string }[] } {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && current === '')) continue;
    if (line.endsWith('\\')) current += line.slice(0, -1) + ' ';
    else {
      logical.push((current + line).trim());
      current = '';
    }
  }
  const instructions: Instruction[] = [];
  const stages: { name?: string; image: string }[] = [];
  for (const line of logical.filter(Boolean)) {
    const [, op = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (op.toUpperCase() === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ image: m?.[1] ?? args, name: m?.[2] });
    }
    instructions.push({ op: op.toUpperCase(), args, stage: stages.length - 1 });
  }
  return { instructions, stages };
}

/** The arguments of an exec-form (JSON array) instruction such as CMD ["node", "x.js"]. */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error(`not an exec form: ${args}`);
  return parsed as string[];
}

/** The shell command of a RUN instruction, without its leading `--mount=…`-style flags. */
export function runCommand(args: string): string {
  return args.replace(/^(--\S+\s+)+/, '');
}
