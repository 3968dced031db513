import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { createModel, generateRetina, liveHandles, train, evaluate, TransfusionError, type Dataset, type TrainEvent } from '../../src';

let trainSet: Dataset, valSet: Dataset;
beforeAll(async () => {
  [trainSet, valSet] = await Promise.all([generateRetina({ count: 256, size: 32, seed: 1 }), generateRetina({ count: 128, size: 32, seed: 2 })]);
});
afterAll(() => {
  trainSet.dispose();
  valSet.dispose();
});

const options = (steps: number) => ({ steps, batchSize: 16, optimizer: 'adam' as const, schedule: { kind: 'constant' as const, lr: 2e-3 }, seed: 3 });

describe('training', () => {
  it('lowers the loss', async () => {
    const m = createModel('cbr-tiny', { seed: 1 });
    const r = await train(m, { train: trainSet, val: valSet }, options(40));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(r.losses).toHaveLength(40);
    expect(mean(r.losses.slice(-10))).toBeLessThan(0.8 * mean(r.losses.slice(0, 10)));
    expect(r.final.meanAuc).toBeGreaterThan(0);
    m.dispose();
  });

  it('is deterministic on CPU: same seed, same losses and AUC', async () => {
    const run = async () => {
      const m = createModel('cbr-tiny', { seed: 5 });
      const r = await train(m, { train: trainSet, val: valSet }, { ...options(6), optimizer: 'sgd', schedule: { kind: 'cosine', lr: 0.02 } });
      m.dispose();
      return r;
    };
    const [a, b] = [await run(), await run()];
    expect(a.losses).toEqual(b.losses);
    expect(a.final.meanAuc).toBe(b.final.meanAuc);
  });

  it('evaluates in NHWC, 32 images a pass, by default on the CPU: NCHW\'s numbers within rounding, training around it unchanged', async () => {
    // Evaluations between steps move the weights to channels-last and back: the steps' losses are those of a run
    // without them, bit for bit.
    const run = async (evalEvery: number) => {
      const m = createModel('cbr-small', { seed: 4 });
      const r = await train(m, { train: trainSet, val: valSet }, { ...options(6), evalEvery });
      return { m, r };
    };
    const [a, b] = [await run(2), await run(0)];
    expect(a.r.curve.map((p) => p.step)).toEqual([2, 4, 6]);
    expect(a.r.losses).toEqual(b.r.losses);
    expect(a.r.final.meanAuc).toBe(b.r.final.meanAuc);
    // The defaults against the peer's settings (128 a pass, NCHW) on the same weights.
    const fast = await evaluate(a.m, valSet), plain = await evaluate(a.m, valSet, { batchSize: 128, channelsLast: false });
    expect(Math.abs(fast.loss! - plain.loss!)).toBeLessThan(1e-5 * Math.abs(plain.loss!));
    expect(Math.abs(fast.meanAuc! - plain.meanAuc!)).toBeLessThan(1e-3);
    expect(await evaluate(a.m, valSet, { batchSize: 7 })).toEqual(await evaluate(a.m, valSet, { batchSize: 7 }));
    [a.m, b.m].forEach((m) => m.dispose());
  });

  it('with evalAtStart, validates the untrained model as the curve\'s step 0, leaving the training itself unchanged', async () => {
    const untrained = createModel('cbr-small', { seed: 4 });
    const before = await evaluate(untrained, valSet);
    untrained.dispose();
    const run = async (evalAtStart: boolean) => {
      const m = createModel('cbr-small', { seed: 4 });
      const events: string[] = [];
      const r = await train(m, { train: trainSet, val: valSet }, { ...options(4), evalEvery: 2, evalAtStart }, { onProgress: (e) => events.push(`${e.kind}${'step' in e ? e.step : ''}`) });
      m.dispose();
      return { r, events };
    };
    const [a, b] = [await run(true), await run(false)];
    expect(a.r.curve.map((p) => p.step)).toEqual([0, 2, 4]);
    expect(a.events.slice(0, 2)).toEqual(['eval0', 'step1']);
    expect(a.r.curve[0].meanAuc).toBe(before.meanAuc);
    expect(a.r.curve[0].loss).toBe(before.loss);
    expect(a.r.losses).toEqual(b.r.losses);
    expect(a.r.curve.slice(1)).toEqual(b.r.curve);
    // Without evalEvery there is no curve to start: evalAtStart alone adds nothing.
    const m = createModel('cbr-tiny', { seed: 4 });
    expect((await train(m, { train: trainSet, val: valSet }, { ...options(2), evalAtStart: true })).curve.map((p) => p.step)).toEqual([2]);
    m.dispose();
  });

  it('reports every step and evaluation once, in order, before the promise resolves', async () => {
    const m = createModel('cbr-tiny');
    const events: TrainEvent[] = [];
    const r = await train(m, { train: trainSet, val: valSet }, { ...options(6), evalEvery: 2 }, { onProgress: (e) => events.push(e) });
    expect(events.map((e) => `${e.kind}${'step' in e ? e.step : ''}`)).toEqual(['step1', 'step2', 'eval2', 'step3', 'step4', 'eval4', 'step5', 'step6', 'eval6']);
    const steps = events.filter((e): e is Extract<TrainEvent, { kind: 'step' }> => e.kind === 'step');
    expect(steps.map((e) => e.loss)).toEqual(r.losses);
    steps.forEach((e) => {
      expect(e.lr).toBeCloseTo(2e-3, 12);
      expect(e.imagesPerSecond).toBeGreaterThan(0);
    });
    expect(r.curve.map((p) => p.step)).toEqual([2, 4, 6]);
    m.dispose();
  });

  it('reads the losses back only at progress points (syncEvery, evaluations), with the same events and losses', async () => {
    const run = async (extra: { syncEvery?: number }) => {
      const m = createModel('cbr-tiny', { seed: 4 });
      const events: TrainEvent[] = [];
      const r = await train(m, { train: trainSet, val: valSet }, { ...options(20), evalEvery: 10, ...extra }, { onProgress: (e) => events.push(e) });
      m.dispose();
      return { r, events: events.map((e) => `${e.kind}${'step' in e ? e.step : ''}`) };
    };
    const [everyStep, atEvaluations, every4] = [await run({}), await run({ syncEvery: 10 }), await run({ syncEvery: 4 })];
    expect(everyStep.r.hostReads).toBe(20);  // the CPU default: a read costs nothing there
    expect(atEvaluations.r.hostReads).toBe(2);  // none between the evaluations at steps 10 and 20
    expect(every4.r.hostReads).toBe(6);  // steps 4, 8, 10 (evaluation), 12, 16, 20
    const expected = [...Array.from({ length: 10 }, (_, i) => `step${i + 1}`), 'eval10', ...Array.from({ length: 10 }, (_, i) => `step${i + 11}`), 'eval20'];
    for (const { r, events } of [everyStep, atEvaluations, every4]) {
      expect(events).toEqual(expected);
      expect(r.losses).toEqual(everyStep.r.losses);
      expect(r.resident).toBe(false);  // a CPU model's set stays where it is
    }
  });

  it.each([
    ['sgd, momentum, weight decay', { optimizer: 'sgd' as const, momentum: 0.9, weightDecay: 1e-3 }],
    ['sgd, nesterov', { optimizer: 'sgd' as const, momentum: 0.9, nesterov: true }],
    ['sgd without momentum', { optimizer: 'sgd' as const, momentum: 0 }],
    ['adam, weight decay', { optimizer: 'adam' as const, weightDecay: 1e-3 }],
  ])('steps %s with multi-tensor kernels, bit for bit LibTorch\'s own step', async (_name, extra) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tn-foreach-'));
    try {
      const run = async (foreach: boolean) => {
        const m = createModel('cbr-tiny', { seed: 6 });
        try {
          const r = await train(m, { train: trainSet, val: valSet }, { ...options(5), schedule: { kind: 'cosine', lr: 0.02 }, ...extra, foreach });
          const file = path.join(dir, `${foreach}.safetensors`);
          await m.saveWeights(file);
          return { r, weights: fs.readFileSync(file) };
        } finally {
          m.dispose();
        }
      };
      const [multi, single] = [await run(true), await run(false)];
      expect(multi.r.losses).toEqual(single.r.losses);
      expect(multi.weights.equals(single.weights)).toBe(true);
      expect(multi.r.losses[4]).not.toBe(multi.r.losses[0]);  // the steps moved the weights
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs every bf16 step on the current weights (autocast keeps no stale casts across steps)', async () => {
    // Momentum-free SGD on one 16-image batch: the loss a run's second step sees equals the first loss a second
    // run sees after one step from the same start (only the batch's order differs), and differs from the first step's.
    const small = await generateRetina({ count: 16, size: 32, seed: 7 });
    const once = { batchSize: 16, optimizer: 'sgd' as const, momentum: 0, weightDecay: 0, schedule: { kind: 'constant' as const, lr: 0.5 }, seed: 1, precision: 'bf16' as const };
    const [a, b] = [createModel('cbr-tiny', { seed: 2 }), createModel('cbr-tiny', { seed: 2 })];
    try {
      const both = await train(a, { train: small, val: valSet }, { ...once, steps: 2 });
      await train(b, { train: small, val: valSet }, { ...once, steps: 1 });
      const second = await train(b, { train: small, val: valSet }, { ...once, steps: 1 });
      expect(Math.abs(both.losses[1] - both.losses[0])).toBeGreaterThan(1e-2);
      expect(Math.abs(both.losses[1] - second.losses[0])).toBeLessThan(2e-3);
    } finally {
      a.dispose();
      b.dispose();
      small.dispose();
    }
  });

  it('refuses cudaGraph for a CPU model, naming the option, with the caller\'s stack', async () => {
    const m = createModel('cbr-tiny');
    try {
      const failed = await train(m, { train: trainSet, val: valSet }, { ...options(2), cudaGraph: true }).catch((e: Error) => e);
      expect(failed).toMatchObject({
        code: 'ERR_INVALID_ARG', message: 'Expected `cudaGraph` only for a CUDA model but model "cbr-tiny" is on the cpu',
      });
      // The error is made when the worker finishes; its stack is the caller's, down to this test.
      expect((failed as Error).stack).toMatch(/^TypeError: Expected `cudaGraph`[^\n]*\n(.*\n)*.*train\.test\.ts/);
    } finally {
      m.dispose();
    }
  });

  it('names the step whose loss stopped being finite, however rarely the losses are read', async () => {
    const diverge = async (syncEvery: number) => {
      const m = createModel('cbr-tiny');
      try {
        await train(m, { train: trainSet, val: valSet }, { ...options(10), optimizer: 'sgd', schedule: new Array(10).fill(1e12), syncEvery });
        return new Error('trained without diverging');
      } catch (err) {
        return err as TransfusionError;
      } finally {
        m.dispose();
      }
    };
    const [eachStep, every5] = [await diverge(1), await diverge(5)];
    expect(eachStep).toMatchObject({ code: 'ERR_DIVERGED', message: expect.stringMatching(/^Training loss became .+ at step \d+ \(learning rate /) });
    expect(every5.message).toBe(eachStep.message);
  });

  it('keeps the event loop free while it trains', async () => {
    const m = createModel('cbr-small');
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 5);
    const t0 = Date.now();
    await train(m, { train: trainSet, val: valSet }, options(25));
    const elapsed = Date.now() - t0;
    clearInterval(timer);
    expect(elapsed).toBeGreaterThan(200);
    expect(ticks).toBeGreaterThan(elapsed / 5 / 4);  // a blocked loop would tick about once
    m.dispose();
  });

  it('cancels between steps on AbortSignal, and the model stays usable', async () => {
    const m = createModel('cbr-tiny');
    const controller = new AbortController();
    let seen = 0;
    const run = train(m, { train: trainSet, val: valSet }, options(10_000), {
      signal: controller.signal,
      onProgress: (e) => {
        if (e.kind === 'step' && ++seen === 3) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(seen).toBeLessThan(20);
    // What was done is not lost (issue 31): the error carries the result so far, every step the weights took.
    const partial = ((await run.catch((e) => e)) as { partial: { stopped: string; steps: number; losses: number[]; curve: unknown[] } }).partial;
    expect(partial).toMatchObject({ stopped: 'aborted', curve: [] });
    expect(partial.steps).toBeGreaterThanOrEqual(3);
    expect(partial.losses).toHaveLength(partial.steps);
    for (const loss of partial.losses) expect(Number.isFinite(loss)).toBe(true);
    await expect(train(m, { train: trainSet, val: valSet }, options(2), { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORT_ERR' });
    // As Node's own APIs: the abort's reason is kept as `cause`, and AbortSignal.timeout() gives a TimeoutError.
    const reason = new Error('user pressed stop');
    await expect(train(m, { train: trainSet, val: valSet }, options(2), { signal: AbortSignal.abort(reason) })).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: reason });
    const timed = train(m, { train: trainSet, val: valSet }, options(100_000), { signal: AbortSignal.timeout(300) });
    await expect(timed).rejects.toMatchObject({ name: 'TimeoutError', code: 'ABORT_ERR', message: 'The operation was aborted due to timeout' });
    await expect(timed).rejects.toHaveProperty('cause.name', 'TimeoutError');
    const metrics = await evaluate(m, valSet);
    expect(metrics.count).toBe(128);
    m.dispose();
  });

  it('stops early when the validation score stops rising, and keeps the best evaluation\'s weights (issue 31)', async () => {
    // A step too large for the task: the validation AUC wanders, so the rule is met before the end.
    const m = createModel('cbr-tiny', { seed: 4 });
    const patience = 2;
    const r = await train(m, { train: trainSet, val: valSet }, { ...options(400), schedule: { kind: 'constant', lr: 0.05 }, evalEvery: 4, patience, keepBest: true, bootstrapResamples: 0 });
    const aucs = r.curve.map((p) => p.meanAuc!);
    // The rule, read from the curve: stop at the first evaluation that is the patience-th in a row below the best.
    let best = -Infinity, since = 0, stopAt = -1;
    aucs.forEach((a, i) => {
      if (stopAt >= 0) return;
      if (a > best) (best = a), (since = 0);
      else if (++since >= patience) stopAt = i;
    });
    expect(stopAt).toBeGreaterThanOrEqual(0);
    expect(r.stopped).toBe('early');
    expect(r.curve).toHaveLength(stopAt + 1);
    expect(r.steps).toBe(r.curve[stopAt].step);
    expect(r.losses).toHaveLength(r.steps);
    const bestAt = aucs.indexOf(Math.max(...aucs));
    expect(r.bestStep).toBe(r.curve[bestAt].step);
    expect(r.final.meanAuc).toBe(aucs[bestAt]);
    // The model holds the best evaluation's weights: evaluating it gives that evaluation's AUC.
    expect((await evaluate(m, valSet)).meanAuc).toBeCloseTo(aucs[bestAt], 6);
    // A held-out test set, given, is evaluated once at the end on those weights.
    const withTest = createModel('cbr-tiny', { seed: 4 });
    const t = await train(withTest, { train: trainSet, val: valSet, test: trainSet }, { ...options(8), evalEvery: 4, keepBest: true, bootstrapResamples: 0 });
    expect(t.test).toEqual(await evaluate(withTest, trainSet));
    expect(r.test).toBeUndefined();
    withTest.dispose();
    // Without patience the same run goes to its end, and the model ends with its last step's weights.
    const plain = createModel('cbr-tiny', { seed: 4 });
    const full = await train(plain, { train: trainSet, val: valSet }, { ...options(12), schedule: { kind: 'constant', lr: 0.05 }, evalEvery: 4, bootstrapResamples: 0 });
    expect(full).toMatchObject({ stopped: 'completed', steps: 12 });
    expect((await evaluate(plain, valSet)).meanAuc).toBeCloseTo(full.curve[2].meanAuc!, 6);
    await expect(train(plain, { train: trainSet, val: valSet }, { ...options(2), patience: -1 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG', message: expect.stringContaining('patience') });
    [m, plain].forEach((x) => x.dispose());
  });

  it('rejects a second job on a busy model', async () => {
    const m = createModel('cbr-tiny');
    const first = train(m, { train: trainSet, val: valSet }, options(5));
    await expect(train(m, { train: trainSet, val: valSet }, options(5))).rejects.toMatchObject({ code: 'ERR_BUSY' });
    await first;
    m.dispose();
  });

  it('maps bad arguments and LibTorch errors to JS errors with stable codes and no C++ backtrace', async () => {
    const m = createModel('cbr-tiny', { numClasses: 3 });
    await expect(train(m, { train: trainSet, val: valSet }, options(2))).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG',
      message: 'The training set has 1 output(s) (binary) but model "cbr-tiny" has 3 classes; create the model with numClasses: 1',
    });
    const one = createModel('cbr-tiny');
    await expect(train(one, { train: trainSet, val: valSet }, { ...options(2), batchSize: 1000 })).rejects.toThrow(
      'Expected `batchSize` to be an integer in [1, 256] (the training set\'s size) but received 1000',
    );
    await expect(train(one, { train: trainSet, val: valSet }, { ...options(2), schedule: [0.1] })).rejects.toThrow(/schedule.length/);
    // Adam's constructor in LibTorch rejects beta2 = 1: a genuine c10::Error from inside LibTorch.
    const err = await train(one, { train: trainSet, val: valSet }, { ...options(2), beta2: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(TransfusionError);
    expect(err.code).toBe('ERR_TORCH');
    expect(err.message).toMatch(/beta/i);
    expect(err.message).not.toMatch(/Exception raised from|frame #/);
    // ...and the model is not left busy.
    await expect(train(one, { train: trainSet, val: valSet }, options(1))).resolves.toBeDefined();
    m.dispose();
    one.dispose();
  });

  it('leaves no live handles behind', async () => {
    const before = liveHandles();
    const m = createModel('cbr-tiny');
    const d = await generateRetina({ count: 32, size: 16, seed: 9 });
    await train(m, { train: d, val: d }, { ...options(2), batchSize: 8 });
    m.dispose();
    d.dispose();
    expect(liveHandles()).toBe(before);
  });
});

describe('augmentation', () => {
  it('changes what the model sees, reproducibly under a seed, and checks its ranges', async () => {
    // lr 0: the model never changes, so the losses differ only through the inputs.
    const frozen = { ...options(5), schedule: { kind: 'constant' as const, lr: 0 } };
    const run = async (augment?: { rotate?: number; translate?: number; scale?: number; flip?: boolean }) => {
      const m = createModel('cbr-tiny', { seed: 4 });
      const r = await train(m, { train: trainSet, val: valSet }, { ...frozen, ...(augment ? { augment } : {}) });
      m.dispose();
      return r.losses;
    };
    const plain = await run();
    const augment = { rotate: 15, translate: 0.1, scale: 0.1, flip: true };
    const a = await run(augment), b = await run(augment);
    expect(a).toEqual(b);
    a.forEach((loss, i) => expect(loss).not.toBe(plain[i]));
    expect(await run({ rotate: 0 })).toEqual(plain);
    const m = createModel('cbr-tiny');
    await expect(train(m, { train: trainSet, val: valSet }, { ...frozen, augment: { rotate: 200 } })).rejects.toThrow('Expected `rotate` to be a number in [0, 180] but received 200');
    m.dispose();
  });
});
