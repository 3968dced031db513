// The findings scorecard's verdict rules on hand-made results: each rule gives "holds", "contradicted" and "not shown"
// where the numbers say so, and every row of the paper is present in the paper's order.
import { scoreFindings, type Finding } from '../../src/experiments/scorecard';
import type { PartName } from '../../src/experiments/reproduce-plan';
import type { RepresentationResults, SimilarityRecord } from '../../src/experiments/representations';
import type { RunRecord, StudyResults } from '../../src/experiments/results';

const run = (model: string, init: string, seed: number, auc: number, stepsToThreshold: number | null = null): RunRecord =>
  ({ model, init, seed, auc, stepsToThreshold, steps: 150, finalLoss: 0.3, wallSeconds: 1, imagesPerSecond: 1, imageSize: 40, curve: [] }) as RunRecord;

/** Three seeds of an arm around `auc` (±0.002), or with the given steps to the threshold. */
const arm = (model: string, init: string, auc: number, steps: (number | null)[] = [null, null, null]) =>
  [-0.002, 0, 0.002].map((d, seed) => run(model, init, seed, auc + d, steps[seed]));

const study = (runs: RunRecord[], extra: Partial<StudyResults> = {}): StudyResults =>
  ({ runs, pretraining: [], spec: { train: { evalEvery: 15 } }, ...extra }) as unknown as StudyResults;

const score = (parts: Partial<Record<PartName, StudyResults>>, analyses: Partial<Record<'similarity' | 'layers' | 'init-vs-final', RepresentationResults>> = {}) =>
  new Map(scoreFindings(new Map(Object.entries(parts) as [PartName, StudyResults][]), analyses).map((f) => [f.id, f] as const));

const verdict = (rows: Map<string, Finding>, id: string) => rows.get(id)!.verdict;

describe('scoreFindings', () => {
  test('every finding of the paper is a row, in the paper\'s order, with its rule and the paper\'s number', () => {
    const rows = [...score({}).values()];
    expect(rows.map((f) => f.where)).toEqual(['Table 1', 'Table 1', 'Table 1', 'Table 2', 'Table 3', 'Figure 2', 'Figure 3', 'Figure 3', 'Figure 4', 'Figure 6', 'Figure 7', 'Figure 8']);
    for (const f of rows) {
      expect(f.rule.length).toBeGreaterThan(40);
      expect(f.paper.length).toBeGreaterThan(5);
      expect(f.verdict).toBe('not shown');  // no runs: nothing is shown, nothing is claimed
    }
  });

  test('Table 1: transfer\'s gain within the noise holds, a real gain contradicts, one seed or no learning is not shown', () => {
    const flat = [...arm('cbr-small', 'random', 0.93), ...arm('cbr-small', 'transfer', 0.932), ...arm('resnet50', 'random', 0.9), ...arm('resnet50', 'transfer', 0.903)];
    expect(verdict(score({ retina: study(flat) }), 'transfer-little-benefit')).toBe('holds');
    const gain = [...arm('cbr-small', 'random', 0.93), ...arm('cbr-small', 'transfer', 0.932), ...arm('resnet50', 'random', 0.88), ...arm('resnet50', 'transfer', 0.93)];
    expect(verdict(score({ retina: study(gain) }), 'transfer-little-benefit')).toBe('contradicted');
    expect(verdict(score({ retina: study([run('cbr-small', 'random', 0, 0.9), run('cbr-small', 'transfer', 0, 0.99)]) }), 'transfer-little-benefit')).toBe('not shown');
    // A model that learned nothing (AUC 0.5 in both arms) tests nothing.
    expect(verdict(score({ retina: study([...arm('resnet50', 'random', 0.5), ...arm('resnet50', 'transfer', 0.52)]) }), 'transfer-little-benefit')).toBe('not shown');
    // The chest task's row reads the chest study.
    expect(verdict(score({ chexpert: study(gain) }), 'transfer-little-benefit-chest')).toBe('contradicted');
  });

  test('Table 1: small models comparable within a point holds, far behind contradicts', () => {
    const close = [...arm('resnet50', 'random', 0.95), ...arm('resnet50', 'transfer', 0.95), ...arm('cbr-tiny', 'random', 0.945), ...arm('cbr-tiny', 'transfer', 0.945)];
    expect(verdict(score({ retina: study(close) }), 'small-models-comparable')).toBe('holds');
    const far = [...arm('resnet50', 'random', 0.95), ...arm('resnet50', 'transfer', 0.95), ...arm('cbr-tiny', 'random', 0.9), ...arm('cbr-tiny', 'transfer', 0.9)];
    expect(verdict(score({ retina: study(far) }), 'small-models-comparable')).toBe('contradicted');
  });

  test('Table 1: pretraining accuracy against transfer AUC by rank correlation', () => {
    const models = ['resnet50', 'inception_v3', 'cbr-larget', 'cbr-small'];
    const make = (aucs: number[]) =>
      study(models.flatMap((m, i) => arm(m, 'transfer', aucs[i])), { pretraining: models.map((m, i) => ({ model: m, top1: 0.8 - 0.1 * i })) as StudyResults['pretraining'] });
    expect(verdict(score({ retina: make([0.9, 0.91, 0.92, 0.93]) }), 'pretraining-not-predictive')).toBe('holds');
    expect(verdict(score({ retina: make([0.95, 0.94, 0.93, 0.92]) }), 'pretraining-not-predictive')).toBe('contradicted');
  });

  test('Table 3: ResNet-50 gaining more than the CBR models holds, less contradicts', () => {
    const helps = [...arm('resnet50', 'random', 0.88), ...arm('resnet50', 'transfer', 0.92), ...arm('cbr-largew', 'random', 0.9), ...arm('cbr-largew', 'transfer', 0.901)];
    expect(verdict(score({ 'small-data': study(helps) }), 'small-data-large-models')).toBe('holds');
    const reverse = [...arm('resnet50', 'random', 0.9), ...arm('resnet50', 'transfer', 0.9), ...arm('cbr-largew', 'random', 0.86), ...arm('cbr-largew', 'transfer', 0.9)];
    expect(verdict(score({ 'small-data': study(reverse) }), 'small-data-large-models')).toBe('contradicted');
  });

  const rec = (model: string, stage: string, compared: SimilarityRecord['compared'], a: string, b: string, seedA: number, seedB: number, meanCca: number): SimilarityRecord =>
    ({ model, stage, compared, a: { init: a, seed: seedA }, b: { init: b, seed: seedB }, meanCca, svccaMean: 0, pwcca: 0, linearCka: 0, datapoints: 1000, neurons: 10 });
  const analysis = (records: SimilarityRecord[], fits: RepresentationResults['fits'] = []): RepresentationResults =>
    ({ analysis: 'layers', probe: { probeSize: 1, maxDatapoints: 0, seed: 0 }, records, fits, filters: [], skipped: [], figures: [] });
  /** Pairs of a model at one stage: three transfer-random pairs and three random-random ones. */
  const pairs = (model: string, rr: number, tr: number) => [
    ...[0, 1, 2].map((s) => rec(model, 'layer4', 'final', 'transfer', 'random', s, (s + 1) % 3, tr + 0.001 * s)),
    ...[0, 1, 2].map((s) => rec(model, 'layer4', 'final', 'random', 'random', s, (s + 1) % 3, rr + 0.001 * s)),
  ];

  test('Figure 2: a larger random-random over transfer-random gap for the large models holds, the reverse contradicts', () => {
    const yes = analysis([...pairs('resnet50', 0.6, 0.4), ...pairs('cbr-small', 0.5, 0.49)]);
    expect(verdict(score({}, { similarity: yes }), 'pretrained-random-alike-small')).toBe('holds');
    const no = analysis([...pairs('resnet50', 0.5, 0.49), ...pairs('cbr-small', 0.6, 0.4)]);
    expect(verdict(score({}, { similarity: no }), 'pretrained-random-alike-small')).toBe('contradicted');
  });

  /** Each run's CCA with its own initialisation per stage: `low` for the lowest two stages, `high` above, per init. */
  const selfRecords = (model: string, values: Record<string, number[]>) =>
    Object.entries(values).flatMap(([init, perStage]) =>
      [0, 1, 2].flatMap((seed) => perStage.map((v, k) => rec(model, `layer${k + 1}`, 'self', init, init, seed, seed, v + 0.001 * seed))),
    );

  test('Figure 3: ResNet-50\'s lowest stage closer to its initialisation holds; feature reuse in the lowest two stages holds', () => {
    const layers = analysis([
      ...selfRecords('resnet50', { random: [0.9, 0.7, 0.5, 0.4], transfer: [0.95, 0.8, 0.5, 0.4] }),
      ...selfRecords('cbr-small', { random: [0.5, 0.4, 0.3, 0.3], transfer: [0.7, 0.5, 0.3, 0.3] }),
    ]);
    const rows = score({}, { layers });
    expect(verdict(rows, 'larger-models-change-less')).toBe('holds');
    expect(verdict(rows, 'feature-reuse-lowest-layers')).toBe('holds');
    const reversed = analysis([
      ...selfRecords('resnet50', { random: [0.4, 0.4, 0.4, 0.4], transfer: [0.4, 0.4, 0.6, 0.6] }),
      ...selfRecords('cbr-small', { random: [0.8, 0.4, 0.3, 0.3], transfer: [0.8, 0.4, 0.5, 0.5] }),
    ]);
    const back = score({}, { layers: reversed });
    expect(verdict(back, 'larger-models-change-less')).toBe('contradicted');
    expect(verdict(back, 'feature-reuse-lowest-layers')).toBe('contradicted');
  });

  test('Figure 4: R² of ResNet-50\'s lowest stage', () => {
    const fit = (model: string, stage: string, r2: number) => ({ model, stage, pairs: 'all' as const, n: 12, r2, slope: 1 });
    expect(verdict(score({}, { 'init-vs-final': analysis([], [fit('resnet50', 'conv1', 0.8), fit('cbr-small', 'layer1', 0.2)]) }), 'init-predicts-final')).toBe('holds');
    expect(verdict(score({}, { 'init-vs-final': analysis([], [fit('resnet50', 'conv1', 0.1), fit('cbr-small', 'layer1', 0.2)]) }), 'init-predicts-final')).toBe('contradicted');
  });

  test('Figures 6-8: steps saved against random init, censored runs counted at the end plus one interval', () => {
    const retina = study([
      ...arm('resnet50', 'random', 0.9, [120, 135, 150]),
      ...arm('resnet50', 'transfer', 0.9, [30, 45, 30]),
      ...arm('cbr-largew', 'random', 0.9, [90, 105, 90]),
      ...arm('cbr-largew', 'transfer', 0.9, [15, 30, 15]),
    ]);
    const fast = study([
      ...arm('resnet50', 'meanvar', 0.9, [60, 45, 60]),
      ...arm('resnet50', 'transfusion:layer1', 0.9, [45, 45, 60]),
      ...arm('resnet50-slim', 'slim', 0.9, [30, 45, 45]),  // as results.json records Slim
      ...arm('resnet50', 'gabor', 0.9, [60, 60, 75]),
      ...arm('cbr-largew', 'gabor', 0.9, [30, 30, 45]),
    ]);
    const good = score({ retina, section5: fast });
    expect(verdict(good, 'meanvar-speeds-convergence')).toBe('holds');
    expect(verdict(good, 'lowest-layers-speed-up')).toBe('holds');
    expect(verdict(good, 'hybrids-recover-speed-up')).toBe('holds');
    expect(good.get('hybrids-recover-speed-up')!.ours).toContain('resnet50 slim: ');  // Slim's runs are ResNet-50's
    const slow = study([
      ...arm('resnet50', 'meanvar', 0.9, [null, null, null]),  // never reached: counted at 150 + 15
      ...arm('resnet50', 'transfusion:layer1', 0.9, [120, 135, 135]),
      ...arm('resnet50-slim', 'slim', 0.9, [150, 150, 150]),
      ...arm('resnet50', 'gabor', 0.9, [150, 150, 150]),
      ...arm('cbr-largew', 'gabor', 0.9, [105, 90, 105]),
    ]);
    const bad = score({ retina, section5: slow });
    expect(verdict(bad, 'meanvar-speeds-convergence')).toBe('contradicted');
    expect(verdict(bad, 'lowest-layers-speed-up')).toBe('contradicted');
    expect(verdict(bad, 'hybrids-recover-speed-up')).toBe('contradicted');
    // No real saving from transfer: the comparisons against it are not shown.
    const none = study([...arm('resnet50', 'random', 0.9, [30, 30, 45]), ...arm('resnet50', 'transfer', 0.9, [30, 45, 30])]);
    expect(verdict(score({ retina: none, section5: fast }), 'lowest-layers-speed-up')).toBe('not shown');
  });
});
