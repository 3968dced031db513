#!/usr/bin/env node
// The CBR-Small training step in the addon and in PyTorch from Python (bench/train_step.py, Debian python3-torch:
// the same LibTorch), same batch, size, optimiser and threads, alternated over rounds; reports images/s and the
// ratio addon / python (the best round of each). `--json` prints {"addon": ..., "python": ..., "ratio": ...}.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const yargs = require('yargs');
const tn = require('../dist/src/index.js');

const args = yargs(process.argv.slice(2))
  .option('batch', { type: 'number', default: 32 })
  .option('size', { type: 'number', default: 64 })
  .option('steps', { type: 'number', default: 20 })
  .option('warmup', { type: 'number', default: 3 })
  .option('rounds', { type: 'number', default: 3 })
  .option('threads', { type: 'number', default: require('node:os').availableParallelism() })
  .option('python', { type: 'string', default: '/usr/bin/python3' })
  .option('json', { type: 'boolean', default: false })
  .strict()
  .parseSync();

async function addonRound(data) {
  const model = tn.createModel('cbr-small', { numClasses: 1, seed: 0 });
  const opts = { batchSize: args.batch, optimizer: 'sgd', momentum: 0.9, weightDecay: 1e-4 };
  await tn.train(model, data, { ...opts, steps: args.warmup, schedule: { kind: 'constant', lr: 0.01 } });
  const r = await tn.train(model, data, { ...opts, steps: args.steps, schedule: { kind: 'constant', lr: 0.01 } });
  model.dispose();
  return r.imagesPerSecond;  // training steps only: the final validation pass is not counted
}

function pythonRound() {
  const r = spawnSync(args.python, [path.join(__dirname, 'train_step.py'), '--batch', args.batch, '--size', args.size,
    '--steps', args.steps, '--warmup', args.warmup, '--threads', args.threads].map(String), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.python} bench/train_step.py failed: ${r.stderr || r.error}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()).images_per_second;
}

(async () => {
  tn.setThreads(args.threads);
  const data = await tn.generateRetina({ count: args.batch, size: args.size, seed: 0, gradeWeights: [1, 0, 1, 0, 0] });
  const addon = [], python = [];
  for (let i = 0; i < args.rounds; i++) {
    addon.push(await addonRound({ train: data, val: data }));
    python.push(pythonRound());
  }
  data.dispose();
  const best = { addon: Math.max(...addon), python: Math.max(...python) };
  const out = { ...best, ratio: best.addon / best.python };
  if (args.json) {
    console.log(JSON.stringify(out));
  } else {
    console.log(`CBR-Small train step, batch ${args.batch}, ${args.size}x${args.size}, ${args.threads} thread(s), LibTorch ${tn.versions().torch}`);
    console.log(`  addon : ${addon.map((x) => x.toFixed(1)).join(', ')} images/s (best ${best.addon.toFixed(1)})`);
    console.log(`  python: ${python.map((x) => x.toFixed(1)).join(', ')} images/s (best ${best.python.toFixed(1)})`);
    console.log(`  ratio addon/python: ${out.ratio.toFixed(3)}`);
  }
})().catch((err) => {
  console.error(`bench/train-step: ${err.message}`);
  process.exitCode = 1;
});
