// Child process for checkpoint.test.ts: starts saving a checkpoint, announces where it stopped, then hangs so
// the parent can SIGKILL it there. Usage: node bin/run-ts.js test/data/helpers/stalled-save.ts PATH mid-write|before-rename
import { saveCheckpoint } from '../../../runtime/checkpoint.ts';
import { f32 } from '../../../runtime/tensor.ts';

const [path, mode] = process.argv.slice(2);
const hang = (): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
};
const big = new Float32Array(1 << 20).fill(7); // 4 MiB: many chunks
saveCheckpoint(
  path,
  { weights: new Map([['w', f32([big.length], big)]]), optimizer: new Map(), position: { epoch: 9, step: 9, batchInEpoch: 0, rng: 'x' }, info: {} },
  {
    chunkBytes: 1 << 16,
    afterChunk: (written) => {
      if (mode === 'mid-write' && written === 1 << 16) {
        process.stdout.write(`stalled ${written}\n`);
        hang();
      }
    },
    beforeRename: (temp) => {
      if (mode === 'before-rename') {
        process.stdout.write(`stalled ${temp}\n`);
        hang();
      }
    },
  },
);
process.stdout.write('finished\n');
