// LibTorch's CPU tensors come from the addon's reusing allocator (native/core/memory/cpu_allocator.h): the same numbers
// as LibTorch's own allocator, bit for bit; large blocks kept while a job runs and given back 3 s after it ends.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

import { createModel, generateRetina, reusedMemoryBytes, versions, type Dataset } from '../../src';
import { train } from '../../src/train';

const root = path.join(__dirname, '..', '..');

// Trains CBR-Tiny for 6 steps (validation at 3 and 6) on the embedded retina task in a child process, whose
// environment chooses the allocator (it is installed when the addon loads).
const script = `
const tn = require(${JSON.stringify(path.join(root, 'dist', 'src', 'index.js'))});
(async () => {
  tn.setThreads(2);
  const [trainSet, valSet] = await Promise.all([tn.generateRetina({ count: 128, size: 32, seed: 5 }), tn.generateRetina({ count: 64, size: 32, seed: 6 })]);
  const net = tn.createModel('cbr-tiny', { numClasses: 1, seed: 3 });
  const r = await tn.train(net, { train: trainSet, val: valSet }, { steps: 6, batchSize: 16, optimizer: 'adam', schedule: { kind: 'cosine', lr: 2e-3 }, evalEvery: 3, seed: 3 });
  process.stdout.write(JSON.stringify({ allocator: tn.versions().cpuAllocator, losses: r.losses, curve: r.curve, auc: r.final.meanAuc }));
})();`;
const child = (env: NodeJS.ProcessEnv) =>
  JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' }));

describe("the addon's CPU allocator", () => {
  it('is in place by default, and TRANSFUSION_CPU_CACHE=0 leaves LibTorch its own', () => {
    expect(versions().cpuAllocator).toBe(process.env.TRANSFUSION_CPU_CACHE === '0' ? 'libtorch' : 'reusing');
    expect(child({ TRANSFUSION_CPU_CACHE: '0' }).allocator).toBe('libtorch');
  });

  it("gives a training run the numbers LibTorch's own allocator gives, bit for bit", () => {
    const reusing = child({ TRANSFUSION_CPU_CACHE: '1' });
    const own = child({ TRANSFUSION_CPU_CACHE: '0' });
    expect(reusing.allocator).toBe('reusing');
    expect(reusing.losses).toHaveLength(6);
    expect(reusing.curve).toHaveLength(2);
    expect({ ...reusing, allocator: 'libtorch' }).toEqual(own);  // losses, curve and AUC identical
  });

  it("keeps a training job's large blocks for reuse while it runs and gives them back 3 s after it ends", async () => {
    if (versions().cpuAllocator !== 'reusing') return;
    let trainSet: Dataset | undefined;
    let valSet: Dataset | undefined;
    const net = createModel('cbr-small', { numClasses: 1, seed: 1 });
    try {
      [trainSet, valSet] = await Promise.all([generateRetina({ count: 64, size: 40, seed: 1 }), generateRetina({ count: 32, size: 40, seed: 2 })]);
      let kept = 0;
      await train(net, { train: trainSet, val: valSet }, { steps: 4, batchSize: 16, optimizer: 'adam', schedule: { kind: 'constant', lr: 1e-3 }, evalEvery: 4, seed: 1 },
        { onProgress: (e) => { if (e.kind === 'step') kept = Math.max(kept, reusedMemoryBytes()); } });
      kept = Math.max(kept, reusedMemoryBytes());  // the job has just ended: its blocks linger for 3 s
      // The activations and gradients of a step (megabytes at batch 16, 40 px) wait in the pool for the next one.
      expect(kept).toBeGreaterThan(1 << 20);
      const deadline = Date.now() + 15_000;
      while (reusedMemoryBytes() > 0 && Date.now() < deadline) await new Promise((done) => setTimeout(done, 250));
      expect(reusedMemoryBytes()).toBe(0);
    } finally {
      net.dispose();
      trainSet?.dispose();
      valSet?.dispose();
    }
  });
});
