import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
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
