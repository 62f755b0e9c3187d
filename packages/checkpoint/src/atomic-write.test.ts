import { chmodSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSparseLearningError } from '@sparse-learning/core';
import { appendJsonLine, nodeFsOps, readJsonLines, writeFileAtomic, writeJsonAtomic, writeJsonLinesAtomic } from './atomic-write.js';
import type { FsOps } from './atomic-write.js';
import { tempDir } from './test-fixtures.js';

function osError(code: string, syscall: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}, ${syscall}`), { code, syscall });
}

/** A write that puts half the bytes on disk, then fails like a full disk. */
const fullDiskWrite: FsOps['write'] = async (fd, data) => {
  await nodeFsOps.write(fd, data.subarray(0, Math.floor(data.byteLength / 2)));
  throw osError('ENOSPC', 'write', 'no space left on device');
};

/** Whether chmod 0o500 really stops this process from creating files (not as root). */
function chmodBlocksWrites(dir: string): boolean {
  const probe = join(dir, 'probe');
  chmodSync(dir, 0o500);
  try {
    writeFileSync(join(probe), 'x');
    return false;
  } catch {
    return true;
  } finally {
    chmodSync(dir, 0o700);
  }
}

async function expectWriteFailed(promise: Promise<unknown>, ...fragments: string[]) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isSparseLearningError(error, 'E_WRITE_FAILED')).toBe(true);
  for (const f of fragments) expect((error as Error).message).toContain(f);
  return error as Error & { details: Record<string, unknown> };
}

describe('writeFileAtomic', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir('atomic')));
  afterEach(() => cleanup());

  const leftovers = () => readdirSync(dir).filter((n) => n.includes('.tmp-'));

  it('writes and replaces a file, leaving no temporary file', async () => {
    const path = join(dir, 'a.bin');
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(path)]).toEqual([1, 2, 3]);
    await writeFileAtomic(path, [new Uint8Array([9]), new Uint8Array([8, 7])]);
    expect([...readFileSync(path)]).toEqual([9, 8, 7]);
    await writeJsonAtomic(join(dir, 'b.json'), { x: 1 });
    expect(readFileSync(join(dir, 'b.json'), 'utf8')).toBe('{\n  "x": 1\n}\n');
    expect(leftovers()).toEqual([]);
  });

  it('a full disk (ENOSPC mid-write) keeps the old file and removes the partial temporary file', async () => {
    const path = join(dir, 'config.json');
    writeFileSync(path, 'OLD CONTENT');
    const error = await expectWriteFailed(
      writeFileAtomic(path, Buffer.alloc(10_000, 65), { fs: { write: fullDiskWrite } }),
      path,
      'ENOSPC',
      'disk is full',
    );
    expect(error.details.osCode).toBe('ENOSPC');
    expect(readFileSync(path, 'utf8')).toBe('OLD CONTENT');
    expect(leftovers()).toEqual([]);
  });

  it('a failing fsync or rename keeps the old file', async () => {
    const path = join(dir, 'f');
    writeFileSync(path, 'OLD');
    await expectWriteFailed(
      writeFileAtomic(path, 'NEW', { fs: { fsync: async () => Promise.reject(osError('EIO', 'fsync', 'i/o error')) } }),
      'EIO',
    );
    await expectWriteFailed(
      writeFileAtomic(path, 'NEW', { fs: { rename: async () => Promise.reject(osError('EXDEV', 'rename', 'cross-device link')) } }),
      'EXDEV',
    );
    expect(readFileSync(path, 'utf8')).toBe('OLD');
    expect(leftovers()).toEqual([]);
  });

  it('a read-only directory gives E_WRITE_FAILED and keeps the old file (real chmod when not root, else EROFS injected)', async () => {
    const path = join(dir, 'results.json');
    writeFileSync(path, 'OLD');
    if (chmodBlocksWrites(dir)) {
      chmodSync(dir, 0o500);
      try {
        await expectWriteFailed(writeFileAtomic(path, 'NEW'), path, 'EACCES', 'permission denied');
      } finally {
        chmodSync(dir, 0o700);
      }
    }
    // Root ignores directory permissions: simulate a read-only file system at the open() call.
    const readOnlyOpen: FsOps['open'] = async () => Promise.reject(osError('EROFS', 'open', 'read-only file system'));
    await expectWriteFailed(writeFileAtomic(path, 'NEW', { fs: { open: readOnlyOpen } }), path, 'EROFS', 'read-only');
    expect(readFileSync(path, 'utf8')).toBe('OLD');
    expect(leftovers()).toEqual([]);
  });

  it('a missing directory or a parent that is a file gives E_WRITE_FAILED naming the path', async () => {
    const missing = join(dir, 'nope', 'x.json');
    await expectWriteFailed(writeFileAtomic(missing, '{}'), missing, 'ENOENT');
    writeFileSync(join(dir, 'file'), 'I am a file');
    const underFile = join(dir, 'file', 'x.json');
    await expectWriteFailed(writeFileAtomic(underFile, '{}'), underFile, 'ENOTDIR');
    expect(readFileSync(join(dir, 'file'), 'utf8')).toBe('I am a file');
  });
});

describe('JSON lines', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir('jsonl')));
  afterEach(() => cleanup());

  it('appends lines and reads them back', async () => {
    const path = join(dir, 'metrics.jsonl');
    await appendJsonLine(path, { epoch: 1, loss: 0.5 });
    await appendJsonLine(path, { epoch: 2, loss: 0.25 });
    expect(readFileSync(path, 'utf8')).toBe('{"epoch":1,"loss":0.5}\n{"epoch":2,"loss":0.25}\n');
    expect(readJsonLines(path)).toEqual([
      { epoch: 1, loss: 0.5 },
      { epoch: 2, loss: 0.25 },
    ]);
  });

  it('a failed append truncates back: no half line is left', async () => {
    const path = join(dir, 'metrics.jsonl');
    await appendJsonLine(path, { epoch: 1 });
    const before = readFileSync(path, 'utf8');
    await expectWriteFailed(appendJsonLine(path, { epoch: 2, long: 'x'.repeat(1000) }, { fs: { write: fullDiskWrite } }), path, 'ENOSPC');
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it('readJsonLines skips an unterminated last line (crash mid-append) but rejects a corrupt middle line', async () => {
    const path = join(dir, 'm.jsonl');
    writeFileSync(path, '{"a":1}\n{"a":2}\n{"a":');
    expect(readJsonLines(path)).toEqual([{ a: 1 }, { a: 2 }]);
    writeFileSync(path, '{"a":1}\n{oops\n{"a":3}\n');
    expect(() => readJsonLines(path)).toThrow(/E_DATA_CORRUPT.*line 2/);
    await writeJsonLinesAtomic(path, [{ a: 1 }, { b: [2] }]);
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n{"b":[2]}\n');
    expect(existsSync(path)).toBe(true);
    expect(() => readJsonLines(join(dir, 'missing.jsonl'))).toThrow(/E_DATA_MISSING.*missing\.jsonl/);
  });
});
