import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { constants as bufferConstants } from 'node:buffer';
import { createGunzip, gunzip } from 'node:zlib';
import { SparseLearningError } from '@sparse-learning/core';

const gunzipAsync = promisify(gunzip);

/** The two bytes every gzip stream starts with (RFC 1952). */
const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

/** True when `bytes` starts with the gzip magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Finds the first of `names` that exists in `dir`. Throws `E_DATA_MISSING` naming the directory and every
 * file name looked for, so a user can see at once which layout is expected.
 */
export async function findDataFile(dir: string, names: readonly string[], what: string): Promise<string> {
  for (const name of names) {
    const path = join(dir, name);
    if (await isFile(path)) return path;
  }
  throw new SparseLearningError(
    'E_DATA_MISSING',
    `${what}: none of [${names.join(', ')}] found in directory '${dir}'`,
    { path: dir, lookedFor: [...names] },
  );
}

/**
 * Inflates the first `n` bytes of a gzip stream (fewer when it is shorter) and stops: enough to read a file
 * header without inflating the file. A stream that is not valid gzip is `E_DATA_CORRUPT` naming the file.
 */
export function gunzipPrefix(bytes: Uint8Array, path: string, n: number): Promise<Uint8Array> {
  return new Promise((resolvePrefix, reject) => {
    const inflate = createGunzip();
    const chunks: Buffer[] = [];
    let length = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      resolvePrefix(new Uint8Array(Buffer.concat(chunks).subarray(0, n)));
      inflate.destroy();
    };
    inflate.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= n) finish();
    });
    inflate.on('end', finish);
    inflate.on('error', (cause) => {
      if (done) return;
      // A stream cut short still yields what was inflated so far: the header check then names the problem.
      if (length > 0) return finish();
      done = true;
      reject(new SparseLearningError('E_DATA_CORRUPT', `gzip file '${path}' cannot be inflated (${cause.message})`, { path }, { cause }));
    });
    inflate.end(bytes);
  });
}

/**
 * Inflates a gzip file but never beyond `maxBytes` (what its header declares): more is `E_DATA_CORRUPT`
 * (`what` says where the bound comes from) — a few kilobytes that would inflate to gigabytes fail before the
 * memory is spent.
 */
export async function gunzipBounded(bytes: Uint8Array, path: string, maxBytes: number, what: string): Promise<Uint8Array> {
  if (maxBytes > bufferConstants.MAX_LENGTH) {
    throw new SparseLearningError('E_DATA_CORRUPT', `gzip file '${path}': ${what} ${maxBytes} bytes, more than this process can hold`, { path, declaredBytes: maxBytes });
  }
  try {
    return await gunzipAsync(bytes, { maxOutputLength: Math.max(1, maxBytes) });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new SparseLearningError(
        'E_DATA_CORRUPT',
        `gzip file '${path}' inflates to more than the ${maxBytes} bytes ${what}; stopped there (a wrong or concatenated file)`,
        { path, declaredBytes: maxBytes },
        { cause },
      );
    }
    throw new SparseLearningError(
      'E_DATA_CORRUPT',
      `gzip file '${path}' cannot be inflated (${(cause as Error).message}); the download is probably incomplete`,
      { path },
      { cause },
    );
  }
}

/**
 * Reads a whole file and inflates it when it is gzip (detected by content, not by name, so a mis-named file
 * still reads). A gzip stream that ends early is reported as `E_DATA_CORRUPT` naming the file.
 */
export async function readMaybeGzip(path: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new SparseLearningError('E_DATA_MISSING', `cannot read data file '${path}': ${(cause as Error).message}`, {
      path,
      lookedFor: [path],
    }, { cause });
  }
  if (!isGzip(bytes)) return bytes;
  try {
    return await gunzipAsync(bytes);
  } catch (cause) {
    throw new SparseLearningError(
      'E_DATA_CORRUPT',
      `gzip file '${path}' cannot be inflated (${(cause as Error).message}); the download is probably incomplete`,
      { path },
      { cause },
    );
  }
}
