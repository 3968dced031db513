#!/usr/bin/env node
// The measurement behind `run`'s default concurrency: per CBR model, the quick preset's run shape (Adam, batch 16,
// 40 px, 2,000 training and 400 validation images, validation at the middle and the end; --steps, default 40) trained
// (a) alone at one thread, (b) alone at every thread (LibTorch's count, TRANSFUSION_THREADS), (c) two at once at one
// thread each (train()'s per-job `threads`), and (d) whether the two runs of (c) gave the numbers they give alone.
// Two runs one after another at every thread take 2 x (b); at once, (c). Prints one JSON object per model.
'use strict';
const tn = require('../dist/src/index.js');

const steps = Number(process.argv[2] ?? 40);
const models = (process.argv[3] ?? 'cbr-tiny,cbr-small,cbr-largew,cbr-larget').split(',');

(async () => {
  const [trainSet, valSet] = await Promise.all([
    tn.generateRetina({ count: 2000, size: 40, seed: 1000 }),
    tn.generateRetina({ count: 400, size: 40, seed: 1001 }),
  ]);
  const cores = tn.getThreads();
  const once = async (model, seed, threads) => {
    const net = tn.createModel(model, { numClasses: 1, seed });
    const t = process.hrtime.bigint();
    const r = await tn.train(net, { train: trainSet, val: valSet }, {
      steps, batchSize: 16, optimizer: 'adam', schedule: { kind: 'cosine', lr: 2e-3, warmupSteps: 2 }, evalEvery: steps / 2, seed, threads,
    });
    net.dispose();
    return { seconds: Number(process.hrtime.bigint() - t) / 1e9, losses: r.losses, auc: r.final.meanAuc };
  };
  for (const model of models) {
    const alone1 = [await once(model, 0, 1), await once(model, 1, 1)];
    const aloneAll = await once(model, 0, cores);
    const t = process.hrtime.bigint();
    const together = await Promise.all([once(model, 0, 1), once(model, 1, 1)]);
    const both = Number(process.hrtime.bigint() - t) / 1e9;
    const same = together.every((r, k) => r.auc === alone1[k].auc && r.losses.every((l, i) => l === alone1[k].losses[i]));
    console.log(JSON.stringify({
      model, steps, cores,
      aloneOneThread: alone1[0].seconds, aloneAllThreads: aloneAll.seconds,
      twoOneAfterAnotherAllThreads: 2 * aloneAll.seconds, twoAtOnceOneThreadEach: both,
      speedup: (2 * aloneAll.seconds) / both, sameNumbersAloneAndTogether: same,
    }));
  }
  trainSet.dispose();
  valSet.dispose();
})();
