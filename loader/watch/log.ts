/**
 * One line per event for the long-running services: `--json` gives one JSON object per line
 * ({"at", "service", "event", …fields}); otherwise a readable `at service event key=value …` line.
 */
export type Fields = Record<string, string | number | boolean | null | undefined | string[]>;

export interface EventLog {
  (event: string, fields?: Fields): void;
}

/** A value for the text form: bare when it is one plain word, else JSON-quoted. */
function textValue(value: Exclude<Fields[string], undefined>): string {
  if (Array.isArray(value)) return JSON.stringify(value.join(','));
  if (typeof value === 'string' && /^[\w./:@+-]+$/.test(value)) return value;
  return JSON.stringify(value);
}

/** The line for one event (no trailing newline); fields that are undefined are left out. */
export function formatEvent(at: Date, service: string, event: string, fields: Fields, json: boolean): string {
  const defined = Object.entries(fields).filter((entry): entry is [string, Exclude<Fields[string], undefined>] => entry[1] !== undefined);
  if (json) return JSON.stringify({ at: at.toISOString(), service, event, ...Object.fromEntries(defined) });
  return [at.toISOString(), service, event, ...defined.map(([k, v]) => `${k}=${textValue(v)}`)].join(' ');
}

/** An event log writing to `out` (stdout by default). */
export function createEventLog(service: string, json: boolean, out: (line: string) => void = (line) => void process.stdout.write(line + '\n')): EventLog {
  return (event, fields = {}) => out(formatEvent(new Date(), service, event, fields, json));
}

/** The message of anything thrown, on one line. */
export function errorText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\s*\n\s*/g, ' | ');
}
