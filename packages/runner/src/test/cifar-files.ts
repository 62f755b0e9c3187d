import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Test helper (not part of the package API): writes a small CIFAR-10 set in the official binary format —
 * `data_batch_1.bin` … `data_batch_5.bin` with `perTrainFile` records each and `test_batch.bin` with
 * `testRecords` — into `dir`. A record is one label byte then the R, G and B planes of 32×32 bytes. Labels
 * cycle 0..9; pixels are a deterministic function of (file, record, channel, position) with a class-dependent
 * brightness per channel, so the data is learnable and identical on every call.
 */
export function writeCifarFiles(dir: string, perTrainFile = 60, testRecords = 100): string {
  mkdirSync(dir, { recursive: true });
  const file = (name: string, fileIndex: number, count: number) => {
    const bytes = new Uint8Array(count * 3073);
    let state = (fileIndex + 1) * 2654435761;
    for (let r = 0; r < count; r++) {
      const label = (r * 7 + fileIndex) % 10;
      const at = r * 3073;
      bytes[at] = label;
      for (let c = 0; c < 3; c++) {
        const base = 40 + 20 * ((label + 3 * c) % 10);
        for (let p = 0; p < 1024; p++) {
          state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
          bytes[at + 1 + c * 1024 + p] = (base + (state >>> 26)) & 0xff;
        }
      }
    }
    writeFileSync(join(dir, name), bytes);
  };
  for (let f = 1; f <= 5; f++) file(`data_batch_${f}.bin`, f, perTrainFile);
  file('test_batch.bin', 0, testRecords);
  return dir;
}
