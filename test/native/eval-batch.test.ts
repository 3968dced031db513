// A CPU study's validation batch, chosen by measurement (src/experiments/eval-batch.ts): the premise that a model's
// metrics do not depend on the batch or the threads, the measurement and its cache, and the study using the choice.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { createModel, evaluate, generateRetina, listModels, preset, runStudy, type StudyResults } from '../../src';
import { EVAL_BATCH_CANDIDATES, evalBatchCandidates, measuredEvalBatch } from '../../src/experiments/eval-batch';
import { tempDir } from '../helpers/tmp';

const dir = tempDir('eval-batch');
const info = (name: string) => listModels().find((m) => m.name === name)!;

describe('the validation batch, measured', () => {
  it('leaves every metric unchanged to the last digit, whatever the batch and the threads', async () => {
    for (const [name, size] of [['cbr-tiny', 32], ['cbr-small', 32], ['resnet50', 32], ['inception_v3', 75]] as const) {
      const data = await generateRetina({ count: 70, size, seed: 3 });
      const model = createModel(name, { numClasses: 1, seed: 1 });
      try {
        const seen = new Set<string>();
        for (const threads of [1, 2])
          for (const batchSize of [...EVAL_BATCH_CANDIDATES.filter((b) => b < 70), 70]) {
            const m = await evaluate(model, data, { batchSize, threads });
            seen.add(JSON.stringify(m));  // loss, AUC per output, mean AUC and its interval
          }
        expect([name, seen.size]).toEqual([name, 1]);
      } finally {
        model.dispose();
        data.dispose();
      }
    }
  }, 300_000);

  it('refuses a thread count evaluate() cannot use, naming it', async () => {
    const data = await generateRetina({ count: 8, size: 32, seed: 3 });
    const model = createModel('cbr-tiny', { numClasses: 1, seed: 1 });
    try {
      await expect(evaluate(model, data, { threads: 0 })).rejects.toThrow(/Expected `threads` to be an integer in \[1, \d+\]/);
    } finally {
      model.dispose();
      data.dispose();
    }
  });

  it('tries 32 and the larger batches the validation set and the memory bound allow', () => {
    expect(evalBatchCandidates(40, 400)).toEqual([32, 64, 128, 256]);
    expect(evalBatchCandidates(32, 100)).toEqual([32, 64]);
    expect(evalBatchCandidates(75, 1000)).toEqual([32, 64]);  // 128 x 75^2 pixels is past 256 x 48^2
    expect(evalBatchCandidates(224, 10)).toEqual([32]);
  });

  it('measures once per machine, model, size and threads, takes the fastest, and reads it back from the cache', async () => {
    const cacheDir = path.join(dir, 'cache');
    const q = { info: info('cbr-tiny'), size: 32, numClasses: 1, threads: 1, images: 128, cacheDir };
    const first = await measuredEvalBatch(q);
    expect(first.measuredNow).toBe(true);
    expect(Object.keys(first.microsecondsPerImage).map(Number)).toEqual([32, 64, 128]);
    const fastest = Math.min(...Object.values(first.microsecondsPerImage));
    expect(first.microsecondsPerImage[first.batch]).toBe(fastest);
    const again = await measuredEvalBatch(q);
    expect(again).toEqual({ ...first, measuredNow: false });
    expect((await measuredEvalBatch({ ...q, threads: 2 })).measuredNow).toBe(true);  // another key
    const file = path.join(cacheDir, 'eval-batch.json');
    expect(Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')).choices)).toHaveLength(2);
    fs.writeFileSync(file, '{ not json');  // a damaged cache is measured again and written whole
    expect((await measuredEvalBatch(q)).measuredNow).toBe(true);
    expect(Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')).choices)).toHaveLength(1);
  }, 120_000);

  it('runs a CPU study at the measured batch, and records it', async () => {
    const cacheDir = path.join(dir, 'study-cache');
    const spec = { ...preset('tiny'), models: ['cbr-tiny'], seeds: [0] };
    const events: string[] = [];
    const out = path.join(dir, 'study');
    await runStudy(spec, { outDir: out, cacheDir, onProgress: (e) => e.kind === 'eval-batch' && events.push(`${e.model} ${e.size} ${e.batch} ${e.measuredNow}`) });
    const cached = JSON.parse(fs.readFileSync(path.join(cacheDir, 'eval-batch.json'), 'utf8')).choices;
    const [choice] = Object.values(cached) as { batch: number }[];
    expect(events).toEqual([`cbr-tiny 32 ${choice.batch} true`]);
    const r = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as StudyResults;
    expect(r.environment.evalBatches).toEqual({ 'cbr-tiny 32': choice.batch });
    expect(r.runs).toHaveLength(2);
  }, 120_000);
});
