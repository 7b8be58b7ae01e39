/**
 * Stream the lines of log files to a callback: plain files, gzip files
 * (recognised by their magic bytes, whatever the name), and `-` for stdin.
 *
 * Contract: files are read one after another through `readline` over a
 * stream, so memory does not grow with file size. A file that cannot be
 * opened or a corrupt gzip stream rejects with a `LogReadError` naming the
 * source (the CLI turns it into exit status 2); lines already delivered stay
 * delivered.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { PassThrough, type Readable } from 'node:stream';

export class LogReadError extends Error {
  readonly code = 'LOG_READ';
  constructor(readonly source: string, detail: string) {
    super(`${source}: ${detail}`);
  }
}

async function isGzipFile(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** A stdin stream that may be gzip: peek at the first chunk, then pipe the rest. */
function maybeGunzip(input: Readable): Readable {
  const out = new PassThrough();
  let started = false;
  input.once('data', (first: Buffer) => {
    started = true;
    const gz = first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
    if (!gz) {
      out.write(first);
      input.pipe(out);
      return;
    }
    const gunzip = createGunzip();
    gunzip.on('error', (e) => out.destroy(e));
    gunzip.pipe(out);
    gunzip.write(first);
    input.pipe(gunzip);
  });
  input.once('end', () => { if (!started) out.end(); });
  input.on('error', (e) => out.destroy(e));
  return out;
}

async function openSource(source: string, stdin: Readable): Promise<Readable> {
  if (source === '-') return maybeGunzip(stdin);
  try {
    const gz = await isGzipFile(source);
    const file = createReadStream(source);
    if (!gz) return file;
    const gunzip = createGunzip();
    file.on('error', (e) => gunzip.destroy(e));
    return file.pipe(gunzip);
  } catch (e) {
    throw new LogReadError(source, (e as Error).message);
  }
}

/** Call `onLine` for every line of every source, in order. */
export async function readLogLines(sources: string[], stdin: Readable, onLine: (line: string) => void): Promise<void> {
  for (const source of sources) {
    const input = await openSource(source, stdin);
    const rl = createInterface({ input, crlfDelay: Infinity });
    try {
      for await (const line of rl) onLine(line);
    } catch (e) {
      throw new LogReadError(source, (e as Error).message);
    } finally {
      rl.close();
      input.destroy();
    }
  }
}
