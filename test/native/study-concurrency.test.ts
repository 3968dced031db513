// Runs of a study in flight at once: each run's numbers are those of the same run alone at the same thread count;
// results.json keeps the study's order; resume, checkpoints and Ctrl-C work with several runs in flight.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { createModel, generateRetina, getThreads, preset, runStudy, setThreads, type StudyResults } from '../../src';
import { train } from '../../src/train';
import { tempDir } from '../helpers/tmp';

const dir = tempDir('concurrency');
const cacheDir = path.join(dir, 'cache');
const read = (out: string): StudyResults => JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
const science = (r: StudyResults) => r.runs.map((x) => [x.model, x.init, x.seed, x.auc, x.finalLoss, x.curve, x.stepsToThreshold, x.aucCi, x.auprc]);

describe('training runs at once', () => {
  it('gives two CBR-Tiny trainings at one thread each, run together, the numbers each gives alone', async () => {
    const [trainSet, valSet] = await Promise.all([generateRetina({ count: 256, size: 32, seed: 1 }), generateRetina({ count: 128, size: 32, seed: 2 })]);
    const once = async (seed: number) => {
      const net = createModel('cbr-tiny', { numClasses: 1, seed });
      try {
        const r = await train(net, { train: trainSet, val: valSet }, { steps: 12, batchSize: 16, optimizer: 'adam', schedule: { kind: 'cosine', lr: 2e-3 }, evalEvery: 4, seed, threads: 1 });
        return { losses: r.losses, curve: r.curve, auc: r.final.meanAuc, ci: r.final.aucCi };
      } finally {
        net.dispose();
      }
    };
    const alone = [await once(0), await once(1)];
    const together = await Promise.all([once(0), once(1)]);
    expect(together).toEqual(alone);  // bit for bit: losses, curve, AUC, its interval
    expect(alone[0].losses).not.toEqual(alone[1].losses);
    trainSet.dispose();
    valSet.dispose();
  }, 120000);

  it('gives a study run two at a time the numbers, in the order, of the same study one run at a time', async () => {
    const spec = { ...preset('tiny'), models: ['cbr-tiny', 'cbr-small'] };
    const threads = getThreads();
    setThreads(1);  // one at a time, each run at the one thread it gets beside another
    let sequential: StudyResults;
    try {
      sequential = await runStudy(spec, { outDir: path.join(dir, 'one'), cacheDir, concurrency: 1 });
    } finally {
      setThreads(threads);
    }
    setThreads(2);
    let concurrent: StudyResults;
    const started: number[] = [];
    let inFlight = 0, most = 0;
    try {
      concurrent = await runStudy(spec, {
        outDir: path.join(dir, 'two'),
        cacheDir: path.join(dir, 'cache-two'),  // its own pretraining, at one thread beside a run
        concurrency: 2,
        onProgress: (e) => {
          if (e.kind === 'run-start') {
            started.push(e.index);
            most = Math.max(most, ++inFlight);
          }
          if (e.kind === 'run-end') inFlight -= 1;
        },
      });
    } finally {
      setThreads(threads);
    }
    expect(most).toBe(2);
    expect(concurrent.environment).toMatchObject({ concurrency: 2, threadsPerRun: 1 });
    expect(science(concurrent)).toEqual(science(sequential));
    expect(science(read(path.join(dir, 'two')))).toEqual(science(sequential));  // the study's order, whatever finished first
    expect(concurrent.pretraining.map((p) => [p.model, p.top1, p.top5])).toEqual(sequential.pretraining.map((p) => [p.model, p.top1, p.top5]));
  }, 240000);

  it('stops every run in flight after its step on abort, and resumes them from their checkpoints to the numbers of an uninterrupted study', async () => {
    const spec = { ...preset('tiny'), models: ['cbr-tiny'], inits: ['random'], seeds: [0, 1, 2], train: { ...preset('tiny').train, steps: 30, evalEvery: 10 } };
    const whole = await runStudy(spec, { outDir: path.join(dir, 'whole'), cacheDir, concurrency: 2, checkpointEvery: 5 });
    const out = path.join(dir, 'stopped');
    const controller = new AbortController();
    const steps = new Map<number, number>();
    const run = runStudy(spec, {
      outDir: out,
      cacheDir,
      concurrency: 2,
      checkpointEvery: 5,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.kind === 'train' && e.event.kind === 'step') steps.set(e.index, e.event.step);
        if (e.kind === 'train' && e.event.kind === 'checkpoint' && e.event.step >= 10 && steps.size === 2) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'ABORT_ERR' });
    expect([...steps.keys()].sort()).toEqual([1, 2]);  // both first runs were in flight
    expect(read(out).runs).toHaveLength(0);
    expect(fs.existsSync(path.join(out, '.lock'))).toBe(false);
    const checkpoints = fs.readdirSync(path.join(out, 'checkpoints')).sort();
    expect(checkpoints).toEqual(['cbr-tiny-random-seed0.pt', 'cbr-tiny-random-seed1.pt']);  // one per run, none shared
    const resumedFrom: number[] = [];
    const done = await runStudy(spec, {
      outDir: out, cacheDir, concurrency: 2, checkpointEvery: 5, resume: true,
      onProgress: (e) => e.kind === 'train' && e.event.kind === 'resume' && resumedFrom.push(e.event.step),
    });
    expect(resumedFrom).toHaveLength(2);
    expect(resumedFrom.every((s) => s >= 5)).toBe(true);
    expect(science(done)).toEqual(science(whole));
    expect(done.runs.slice(0, 2).every((r) => (r.resumedFrom ?? 0) >= 5)).toBe(true);
  }, 240000);

  it('names a bad concurrency', async () => {
    await expect(runStudy(preset('tiny'), { outDir: path.join(dir, 'bad'), concurrency: 0 })).rejects.toThrow('Expected `concurrency` to be an integer in [1, 64] but received 0');
  });
});
