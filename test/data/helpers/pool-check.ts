// Child process for pipeline.test.ts: under `node bin/run-ts.js`, makes batches on a worker pool and on this
// thread and prints whether they match byte for byte.
import { loadData } from '../../../runtime/data/spec.ts';
import { BatchLoader } from '../../../runtime/data/pipeline.ts';
import { startPrefetch } from '../../../runtime/data/worker-pool.ts';

const { train } = loadData('fashion-mnist-bundled');
const options = { batchSize: 32, seed: 3, fit: { height: 32, width: 32 }, augment: { mirror: true, rotateDegrees: 15, crop: { height: 28, width: 28, padding: 2 } } };
const single = new BatchLoader(train, options);
const { loader, close } = startPrefetch(train, options, 2);
let same = true;
for (let i = 0; i < 6; i++) {
  const a = single.next();
  const b = await loader.next();
  same &&= Buffer.compare(Buffer.from(a.images.buffer), Buffer.from(b.images.buffer)) === 0 && a.labels.join() === b.labels.join();
}
await close();
process.stdout.write(JSON.stringify({ same, state: loader.state() }) + '\n');
