/**
 * npm run generate — Online-Retail-shaped CSV of any size (see loader/generate/). Orchestration only:
 * parse the options, open the output(s), pump the generator's pieces with backpressure, write the manifest.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';

import { runMain } from '../loader/cli/main.js';
import { calibrate, splitCsvLine } from '../loader/generate/calibrate.js';
import { Calendar, isoDay } from '../loader/generate/calendar.js';
import { calibrationPath, loadCalibration } from '../loader/generate/calibration.js';
import { HEADER, MAX_LISTED_FILES, RowGenerator } from '../loader/generate/generator.js';
import { buildManifest } from '../loader/generate/manifest.js';
import { Model } from '../loader/generate/model.js';
import { USAGE, parseGenerateArgs, type GenerateArgs } from '../loader/generate/options.js';
import { bundledDataDir } from '../loader/paths.js';

interface Sink { stream: Writable; done: Promise<void>; path: string }

function open(path: string, gzip: boolean): Sink {
  const file = path === '-' ? process.stdout : createWriteStream(path);
  if (!gzip) return { stream: file, done: path === '-' ? Promise.resolve() : finished(file), path };
  const z = createGzip({ level: 1, chunkSize: 256 * 1024 });
  z.pipe(file);
  return { stream: z, done: path === '-' ? finished(z) : finished(file), path };
}

async function write(sink: Sink, data: string | Buffer): Promise<void> {
  if (!sink.stream.write(data)) await once(sink.stream, 'drain');
}

async function close(sink: Sink): Promise<void> {
  if (sink.path !== '-' || sink.stream !== process.stdout) sink.stream.end();
  await sink.done;
}

async function generate(args: GenerateArgs): Promise<void> {
  const started = Date.now();
  const cal = loadCalibration();
  const model = new Model(cal, args.seed);
  const calendar = new Calendar(cal, args.seed, args.volume);
  const gen = new RowGenerator(model, calendar, { ...args, splitByDay: args.splitByDay !== undefined });
  const ext = args.gzip ? '.csv.gz' : '.csv';
  if (args.splitByDay !== undefined) mkdirSync(args.splitByDay, { recursive: true });
  const paths: string[] = [];
  let sink: Sink | undefined;
  let day = -1;
  for (const piece of gen.pieces()) {
    if (!sink || (args.splitByDay !== undefined && piece.day !== day)) {
      if (sink) await close(sink);
      const path = args.splitByDay !== undefined ? join(args.splitByDay, `${isoDay(piece.day)}${ext}`) : args.out;
      sink = open(path, args.gzip);
      if (paths.length < MAX_LISTED_FILES) paths.push(path);
      await write(sink, HEADER);
    }
    day = piece.day;
    await write(sink, piece.data);
  }
  if (!sink) {
    sink = open(args.out, args.gzip); // no rows at all: still a valid file with its header
    await write(sink, HEADER);
  }
  await close(sink);
  const manifest = buildManifest(
    gen,
    { rows: args.rows ?? null, days: args.days ?? null, seed: args.seed, from: args.fromDate, volume: args.volume, dirty: args.dirty, gzip: args.gzip, split_by_day: args.splitByDay !== undefined },
    paths,
    isoDay,
  );
  if (args.manifest) writeFileSync(args.manifest, JSON.stringify(manifest, null, 2) + '\n');
  if (!args.quiet) {
    const where = args.splitByDay !== undefined ? `${manifest.file_count} files in ${args.splitByDay}` : args.out === '-' ? 'stdout' : args.out;
    process.stderr.write(
      `generate: ${manifest.expected.rows_read.toLocaleString('en-US')} rows, ${manifest.days} day(s) (${manifest.first_date} .. ${manifest.last_date}) -> ${where} in ${((Date.now() - started) / 1000).toFixed(1)} s` +
        (args.manifest ? `; manifest ${args.manifest}\n` : '\n'),
    );
  }
}

/** recompute the calibration from the bundled daily files */
async function recalibrate(): Promise<void> {
  const files = readdirSync(bundledDataDir).filter((f) => f.endsWith('.csv.gz')).sort();
  const rows: string[][] = [];
  for (const f of files) {
    const lines = createInterface({ input: createReadStream(join(bundledDataDir, f)).pipe(createGunzip()), crlfDelay: Infinity });
    let header = true;
    for await (const line of lines) {
      if (header) {
        if (line.replace(/^\uFEFF/, '') !== HEADER.trim()) throw new Error(`${f}: unexpected header ${line}`);
        header = false;
      } else if (line !== '') rows.push(splitCsvLine(line));
    }
  }
  const cal = calibrate(rows as Parameters<typeof calibrate>[0], files.length);
  writeFileSync(calibrationPath, JSON.stringify(cal) + '\n');
  process.stderr.write(`generate: calibration from ${files.length} files, ${rows.length} rows -> ${calibrationPath}\n`);
}

runMain('generate', async () => {
  const args = parseGenerateArgs(process.argv.slice(2));
  if (args.help) return void process.stdout.write(USAGE + '\n');
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0); // the reader went away (e.g. | head): nothing more to do
    throw err;
  });
  if (args.calibrate) await recalibrate();
  else await generate(args);
});
