/** sha256 of a file in a worker thread, so a large file's hash is computed while its rows already stream. */
import { Worker } from 'node:worker_threads';

import { LoadError } from './errors.js';

// an eval'd CommonJS worker: needs no file of its own next to this module (works from dist/ and from sources)
const code = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
try {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(workerData, 'r');
  let size = 0;
  for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; size += n) hash.update(buf.subarray(0, n));
  closeSync(fd);
  parentPort.postMessage({ sha256: hash.digest('hex'), size });
} catch (err) {
  parentPort.postMessage({ error: err.code === 'ENOENT' ? 'no such file or directory' : err.message });
}
`;

export function hashInWorker(path: string): Promise<{ sha256: string; size: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: path });
    worker.once('message', (m: { sha256?: string; size?: number; error?: string }) => {
      if (m.sha256 !== undefined) resolve({ sha256: m.sha256, size: m.size ?? 0 });
      else reject(new LoadError(m.error ?? 'cannot hash the file'));
    });
    worker.once('error', reject);
    worker.once('exit', (c) => c !== 0 && reject(new Error(`hash worker exited with ${c}`)));
  });
}
