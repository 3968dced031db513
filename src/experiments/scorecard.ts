// The paper's findings, each scored on a reproduction's runs by a rule fixed here (and in the README) before any run:
// a difference counts only when it exceeds both twice its standard error over seeds and a floor (one AUC point,
// 0.02 CCA, one validation interval of steps). A claim the runs cannot test (models missing, fewer than two seeds,
// models that did not learn) is "not shown"; one the runs test and refute is "contradicted". Pure: results in, rows out.
import { checkStudyParts } from './results-schema';
import { meanStd } from '../metrics';
import { reportedModel } from './architecture';
import { pairKind, type Analysis, type RepresentationResults, type SimilarityRecord } from './representations';
import type { PartName } from './reproduce-plan';
import type { RunRecord, StudyResults } from './results';

/** A finding's verdict on the runs: the rule's difference holds, cannot be told (not shown), or goes the other way. */
export type Verdict = 'holds' | 'not shown' | 'contradicted';

/** One row of the scorecard: a finding of the paper, the paper's number, ours, and the verdict of its fixed rule. */
export interface Finding {
  id: string;
  /** The table or figure of the paper. */
  where: string;
  claim: string;
  /** What the paper reports. */
  paper: string;
  /** What these runs show, with its spread. */
  ours: string;
  verdict: Verdict;
  /** The rule, as written before any run. */
  rule: string;
}

/** Standard errors a difference must exceed. */
export const Z = 2;
/** Floors under which no difference counts: AUC (one point), CCA, and a model that did not learn. */
export const MIN_AUC = 0.01, MIN_CCA = 0.02, LEARNED_AUC = 0.6;

const LARGE = ['resnet50', 'inception_v3'];
const isCbr = (m: string) => m.startsWith('cbr-');

interface Est { mean: number; se: number; n: number }
const est = (values: number[]): Est => {
  const { mean, std, n } = meanStd(values);
  return { mean, se: n > 1 ? std / Math.sqrt(n) : NaN, n };
};
const diff = (a: Est, b: Est): Est => ({ mean: a.mean - b.mean, se: Math.hypot(a.se, b.se), n: Math.min(a.n, b.n) });
/** Whether a difference is real: above Z standard errors and the floor; "unknown" with fewer than two values a side. */
const exceeds = (d: Est, floor: number): boolean | 'unknown' => (!(d.n >= 2) || !Number.isFinite(d.se) ? 'unknown' : d.mean > Math.max(Z * d.se, floor));
const below = (d: Est, floor: number): boolean | 'unknown' => exceeds({ ...d, mean: -d.mean }, floor);
const fmt = (d: Est, digits = 2, scale = 100) => `${d.mean >= 0 ? '+' : ''}${(scale * d.mean).toFixed(digits)} ± ${Number.isFinite(d.se) ? (scale * d.se).toFixed(digits) : 'n/a'}`;

const aucs = (r: StudyResults | undefined, model: string, init: string) => (r?.runs ?? []).filter((x) => x.model === model && x.init === init && Number.isFinite(x.auc)).map((x) => x.auc);

/** Transfer's gain in AUC per model that learned (both arms' mean AUC >= LEARNED_AUC). */
function gains(r: StudyResults | undefined): { model: string; gain: Est }[] {
  const models = [...new Set((r?.runs ?? []).map((x) => x.model))];
  return models
    .map((model) => ({ model, t: est(aucs(r, model, 'transfer')), rnd: est(aucs(r, model, 'random')) }))
    .filter(({ t, rnd }) => t.n > 0 && rnd.n > 0 && t.mean >= LEARNED_AUC && rnd.mean >= LEARNED_AUC)
    .map(({ model, t, rnd }) => ({ model, gain: diff(t, rnd) }));
}

function littleBenefit(id: string, where: string, r: StudyResults | undefined, paper: string): Finding {
  const rule = `Transfer's gain in mean AUC (transfer − random) exceeds ${Z} SE and ${100 * MIN_AUC} AUC point for no model that learned (both arms ≥ ${100 * LEARNED_AUC}%): holds; for some model: contradicted; no model with two seeds per arm: not shown.`;
  const g = gains(r);
  const known = g.filter((x) => exceeds(x.gain, MIN_AUC) !== 'unknown');
  const real = known.filter((x) => exceeds(x.gain, MIN_AUC) === true);
  const ours = g.length ? g.map((x) => `${x.model} ${fmt(x.gain)}`).join('; ') : 'no model learned both arms';
  const verdict: Verdict = !known.length ? 'not shown' : real.length ? 'contradicted' : 'holds';
  return { id, where, claim: 'Transfer gives little or no performance benefit on the medical task', paper, ours, verdict, rule };
}

/** Mean AUC over both arms per model. */
const modelAuc = (r: StudyResults | undefined, model: string) => est([...aucs(r, model, 'random'), ...aucs(r, model, 'transfer')]);

function smallComparable(r: StudyResults | undefined): Finding {
  const rule = `The best CBR model's mean AUC falls short of the best of ResNet-50 and Inception-v3 by no more than ${Z} SE or ${100 * MIN_AUC} AUC point: holds; by more: contradicted; either family missing: not shown.`;
  const models = [...new Set((r?.runs ?? []).map((x) => x.model))];
  const best = (ms: string[]) => ms.map((m) => ({ m, e: modelAuc(r, m) })).filter((x) => x.e.n > 0).sort((a, b) => b.e.mean - a.e.mean)[0];
  const big = best(models.filter((m) => LARGE.includes(m))), small = best(models.filter(isCbr));
  const base = { id: 'small-models-comparable', where: 'Table 1', claim: 'The small CBR models perform comparably to ResNet-50 and Inception-v3', paper: 'CBR 95.7-96.2% against 96.4-96.7% AUC', rule };
  if (!big || !small) return { ...base, ours: 'needs a CBR model and ResNet-50 or Inception-v3', verdict: 'not shown' };
  const short = diff(big.e, small.e);
  const ok = !(exceeds(short, MIN_AUC) === true);
  return { ...base, ours: `${big.m} ${(100 * big.e.mean).toFixed(2)}%, ${small.m} ${(100 * small.e.mean).toFixed(2)}% (shortfall ${fmt(short)})`, verdict: short.n < 2 ? 'not shown' : ok ? 'holds' : 'contradicted' };
}

function spearman(x: number[], y: number[]): number {
  const rank = (v: number[]) => {
    const order = v.map((value, i) => ({ value, i })).sort((a, b) => a.value - b.value);
    const r = new Array<number>(v.length);
    order.forEach((o, k) => (r[o.i] = k));
    return r;
  };
  const rx = rank(x), ry = rank(y), n = x.length;
  const mx = (n - 1) / 2;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (rx[i] - mx) * (ry[i] - mx);
    sxx += (rx[i] - mx) ** 2;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

function pretrainingNotPredictive(r: StudyResults | undefined): Finding {
  const rule = 'Spearman correlation over models between pretraining top-1 and transfer AUC: ≤ 0.5 holds; ≥ 0.8 contradicted; between, or fewer than 4 models with embedded pretraining: not shown.';
  const points = (r?.pretraining ?? [])
    .filter((p) => p.top1 !== null && aucs(r, p.model, 'transfer').length)
    .map((p) => ({ model: p.model, top1: p.top1!, auc: est(aucs(r, p.model, 'transfer')).mean }));
  const base = { id: 'pretraining-not-predictive', where: 'Table 1', claim: 'Pretraining (ImageNet) accuracy does not predict performance on the medical task', paper: 'CBR top-5 67.6-77.5% against 92-93.9%, with comparable AUC', rule };
  if (points.length < 4) return { ...base, ours: `${points.length} model(s) with embedded pretraining`, verdict: 'not shown' };
  const rho = spearman(points.map((p) => p.top1), points.map((p) => p.auc));
  return { ...base, ours: `Spearman ρ = ${rho.toFixed(2)} over ${points.length} models`, verdict: rho <= 0.5 ? 'holds' : rho >= 0.8 ? 'contradicted' : 'not shown' };
}

function smallData(r: StudyResults | undefined): Finding {
  const rule = `With little data, ResNet-50's transfer gain exceeds the largest CBR model's gain by more than ${Z} SE and ${100 * MIN_AUC} AUC point: holds; falls below it by as much: contradicted; otherwise, or models missing: not shown.`;
  const g = gains(r);
  const resnet = g.find((x) => x.model === 'resnet50');
  const cbr = g.filter((x) => isCbr(x.model)).sort((a, b) => b.gain.mean - a.gain.mean)[0];
  const base = { id: 'small-data-large-models', where: 'Table 3', claim: 'With little data, transfer helps the large model (ResNet-50) more than the small ones', paper: 'ResNet-50 +2.4 AUC points; CBR-LargeT +0.3, CBR-LargeW +0.1', rule };
  if (!resnet || !cbr) return { ...base, ours: 'needs ResNet-50 and a CBR model that learned', verdict: 'not shown' };
  const d = diff(resnet.gain, cbr.gain);
  const up = exceeds(d, MIN_AUC), down = below(d, MIN_AUC);
  return { ...base, ours: `ResNet-50 ${fmt(resnet.gain)}, ${cbr.model} ${fmt(cbr.gain)} (difference ${fmt(d)})`, verdict: up === true ? 'holds' : down === true ? 'contradicted' : 'not shown' };
}

/** Mean over records of a metric, with its standard error over records. */
const cca = (records: SimilarityRecord[]) => est(records.map((x) => x.meanCca));
const famGap = (gaps: Est[]): Est => ({ mean: gaps.reduce((s, g) => s + g.mean, 0) / gaps.length, se: Math.sqrt(gaps.reduce((s, g) => s + g.se ** 2, 0)) / gaps.length, n: Math.min(...gaps.map((g) => g.n)) });

function twoFamilies(id: string, where: string, claim: string, paper: string, perModel: Map<string, Est>, what: string): Finding {
  const rule = `${what}: the mean over ResNet-50 and Inception-v3 exceeds the mean over the CBR models by more than ${Z} SE and ${MIN_CCA} CCA: holds; falls below it by as much: contradicted; otherwise, or a family missing: not shown.`;
  const large = [...perModel].filter(([m]) => LARGE.includes(m)).map(([, e]) => e).filter((e) => Number.isFinite(e.mean));
  const small = [...perModel].filter(([m]) => isCbr(m)).map(([, e]) => e).filter((e) => Number.isFinite(e.mean));
  const ours = [...perModel].map(([m, e]) => `${m} ${fmt(e, 3, 1)}`).join('; ') || 'no analysis';
  if (!large.length || !small.length) return { id, where, claim, paper, ours, verdict: 'not shown', rule };
  const d = diff(famGap(large), famGap(small));
  return { id, where, claim, paper, ours, verdict: exceeds(d, MIN_CCA) === true ? 'holds' : below(d, MIN_CCA) === true ? 'contradicted' : 'not shown', rule };
}

function representationsDiffer(a: RepresentationResults | undefined): Finding {
  const gap = new Map<string, Est>();
  for (const m of [...new Set((a?.records ?? []).map((x) => x.model))]) {
    const recs = a!.records.filter((x) => x.model === m && x.compared === 'final');
    gap.set(m, diff(cca(recs.filter((x) => pairKind(x) === 'random-random')), cca(recs.filter((x) => pairKind(x) === 'transfer-random'))));
  }
  return twoFamilies('pretrained-random-alike-small', 'Figure 2', 'Pretrained and random-init models learn more alike representations for the small models than for the large ones', 'clear gap (random-random above transfer-random) for ResNet-50 and Inception-v3, little for the CBR models', gap, 'Per model, CCA of the top two stages, random-random pairs minus transfer-random pairs');
}

/** Each model's stages in order, with every run's CCA to its own initialisation (the layers analysis). */
function selfCca(a: RepresentationResults | undefined): Map<string, Map<string, SimilarityRecord[]>> {
  const out = new Map<string, Map<string, SimilarityRecord[]>>();
  for (const x of a?.records ?? []) {
    if (x.compared !== 'self') continue;
    if (!out.has(x.model)) out.set(x.model, new Map());
    const stages = out.get(x.model)!;
    stages.set(x.stage, [...(stages.get(x.stage) ?? []), x]);
  }
  return out;
}

function changeLess(a: RepresentationResults | undefined): Finding {
  const lowest = new Map<string, Est>();
  for (const [m, stages] of selfCca(a)) lowest.set(m, cca([...stages.values()][0] ?? []));
  return twoFamilies('larger-models-change-less', 'Figure 3', 'Larger models change less through training: their lowest layer stays closer to its initialisation', 'ResNet-50\'s conv1 keeps a CCA with its initialisation well above the CBR models\'', lowest, 'Per model, CCA of the lowest stage after training with itself at initialisation (every run)');
}

function reuseLowest(a: RepresentationResults | undefined): Finding {
  const rule = `Per model, the transfer − random difference in CCA with the initialisation, averaged over the lowest two stages, exceeds its average over the stages above by more than ${Z} SE and ${MIN_CCA} (mean over models): holds; falls below it by as much: contradicted; otherwise, or fewer than three stages: not shown.`;
  const lows: Est[] = [], highs: Est[] = [];
  const parts: string[] = [];
  for (const [m, stages] of selfCca(a)) {
    const per = [...stages.values()].map((recs) => diff(cca(recs.filter((x) => x.a.init === 'transfer')), cca(recs.filter((x) => x.a.init === 'random'))));
    if (per.length < 3 || per.some((e) => !Number.isFinite(e.mean))) continue;
    const low = famGap(per.slice(0, 2)), high = famGap(per.slice(2));
    lows.push(low);
    highs.push(high);
    parts.push(`${m} lowest two ${fmt(low, 3, 1)}, above ${fmt(high, 3, 1)}`);
  }
  const base = { id: 'feature-reuse-lowest-layers', where: 'Figure 3', claim: 'Feature reuse is concentrated in the lowest layers', paper: 'pretrained weights stay closer to their initialisation than random ones only in the lowest two layers', rule };
  if (!lows.length) return { ...base, ours: 'no model with three or more analysed stages', verdict: 'not shown' };
  const d = diff(famGap(lows), famGap(highs));
  return { ...base, ours: parts.join('; '), verdict: exceeds(d, MIN_CCA) === true ? 'holds' : below(d, MIN_CCA) === true ? 'contradicted' : 'not shown' };
}

function initPredictsFinal(a: RepresentationResults | undefined): Finding {
  const rule = 'R² of CCA after training on CCA at initialisation over every pair (ResNet-50\'s lowest stage, at least 5 pairs) ≥ 0.5 and above CBR-Small\'s lowest stage: holds; below 0.5: contradicted; otherwise, or missing: not shown.';
  const fit = (m: string) => (a?.fits ?? []).filter((f) => f.model === m && f.pairs === 'all')[0];
  const r = fit('resnet50'), c = fit('cbr-small');
  const base = { id: 'init-predicts-final', where: 'Figure 4', claim: 'For ResNet-50\'s conv1, CCA at initialisation predicts CCA after training (it moves little); not for CBR-Small', paper: 'R² = 0.75 (transfer-random) and 0.84 (random-random)', rule };
  if (!r || r.r2 === null || r.n < 5) return { ...base, ours: r ? `ResNet-50 ${r.stage}: ${r.n} pairs` : 'no ResNet-50 fit', verdict: 'not shown' };
  const ours = `ResNet-50 ${r.stage} R² ${r.r2.toFixed(2)} (${r.n} pairs)${c && c.r2 !== null ? `, CBR-Small ${c.stage} R² ${c.r2.toFixed(2)}` : ''}`;
  if (r.r2 < 0.5) return { ...base, ours, verdict: 'contradicted' };
  return { ...base, ours, verdict: c && c.r2 !== null && r.r2 > c.r2 ? 'holds' : 'not shown' };
}

/** Steps to the threshold per run, a run that never reached it counted at its last step plus one validation interval. */
function steps(runs: RunRecord[], model: string, init: string, interval: number): Est {
  return est(runs.filter((x) => x.model === model && x.init === init).map((x) => x.stepsToThreshold ?? x.steps + interval));
}

function convergence(parts: Map<PartName, StudyResults>) {
  const retina = parts.get('retina'), s5 = parts.get('section5');
  // Slim trains resnet50-slim but is a ResNet-50 initialisation: its runs count among ResNet-50's.
  const runs = [...(retina?.runs ?? []), ...(s5?.runs ?? [])].map((x) => ({ ...x, model: reportedModel(x.model, x.init) }));
  const interval = retina?.spec.train.evalEvery || 1;
  const saving = (model: string, init: string) => diff(steps(runs, model, 'random', interval), steps(runs, model, init, interval));
  const has = (model: string, init: string) => runs.some((x) => x.model === model && x.init === init);
  return { runs, interval, saving, has, models: [...new Set(runs.map((x) => x.model))] };
}

function meanVar(parts: Map<PartName, StudyResults>): Finding {
  const c = convergence(parts);
  const rule = `Per model, steps to the threshold AUC saved by Mean Var against random init (a run that never reaches it counted at its last step plus one validation interval) exceeds ${Z} SE and one validation interval for every model: holds; Mean Var slower by as much for some model: contradicted; otherwise: not shown.`;
  const models = c.models.filter((m) => c.has(m, 'meanvar') && c.has(m, 'random'));
  const s = models.map((m) => ({ m, e: c.saving(m, 'meanvar') }));
  const base = { id: 'meanvar-speeds-convergence', where: 'Figure 6', claim: 'Mean Var initialisation (the pretrained weights\' scaling alone) speeds up convergence', paper: 'Mean Var converges faster than random init, close to transfer', rule };
  if (!s.length) return { ...base, ours: 'no Mean Var arm', verdict: 'not shown' };
  const ours = s.map((x) => `${x.m} ${fmt(x.e, 1, 1)} steps`).join('; ');
  if (s.some((x) => below(x.e, c.interval) === true)) return { ...base, ours, verdict: 'contradicted' };
  return { ...base, ours, verdict: s.every((x) => exceeds(x.e, c.interval) === true) ? 'holds' : 'not shown' };
}

/** A share of transfer's saving in steps that another initialisation recovers, per model where transfer's saving is real. */
function recovered(parts: Map<PartName, StudyResults>, initsOf: (model: string) => string[]): { ours: string; shares: number[]; real: number } {
  const c = convergence(parts);
  const shares: number[] = [], text: string[] = [];
  let real = 0;
  for (const m of c.models) {
    const inits = initsOf(m).filter((i) => c.has(m, i));
    if (!inits.length || !c.has(m, 'transfer')) continue;
    const full = c.saving(m, 'transfer');
    if (exceeds(full, c.interval) !== true) {
      text.push(`${m}: transfer saves ${fmt(full, 1, 1)} steps (not a real saving)`);
      continue;
    }
    real += 1;
    for (const i of inits) {
      const share = c.saving(m, i).mean / full.mean;
      shares.push(share);
      text.push(`${m} ${i}: ${(100 * share).toFixed(0)}% of transfer's ${full.mean.toFixed(1)} steps`);
    }
  }
  return { ours: text.join('; ') || 'no arms', shares, real };
}

function lowestSpeedUp(parts: Map<PartName, StudyResults>): Finding {
  const rule = 'Where transfer saves steps (more than 2 SE and one validation interval), transfusing the lowest two stages (ResNet-50 up to layer1, a CBR model up to layer2) recovers at least half of that saving for every such model: holds; less for some: contradicted; no real saving: not shown.';
  const r = recovered(parts, (m) => [m === 'resnet50' ? 'transfusion:layer1' : 'transfusion:layer2']);
  const base = { id: 'lowest-layers-speed-up', where: 'Figure 7', claim: 'Reusing only the lowest layers\' weights gives most of transfer\'s speed-up', paper: 'conv1 alone gives the largest marginal speed-up; up to block2 most of it', rule, ours: r.ours };
  return { ...base, verdict: !r.real || !r.shares.length ? 'not shown' : r.shares.every((s) => s >= 0.5) ? 'holds' : 'contradicted' };
}

function hybrids(parts: Map<PartName, StudyResults>): Finding {
  const rule = 'Where transfer saves steps (more than 2 SE and one validation interval), Slim and Gabor conv1 each recover at least half of that saving: holds; some recovers none (≤ 0): contradicted; otherwise, or no real saving: not shown.';
  const r = recovered(parts, (m) => (m === 'resnet50' ? ['slim', 'gabor'] : ['gabor']));
  const base = { id: 'hybrids-recover-speed-up', where: 'Figure 8', claim: 'Slim (pretrained to block 2, a slimmer random top) and synthetic Gabor conv1 recover much of transfer\'s speed-up', paper: 'Slim matches transfer; Gabor conv1 matches pretrained conv1', rule, ours: r.ours };
  return { ...base, verdict: !r.real || !r.shares.length ? 'not shown' : r.shares.every((s) => s >= 0.5) ? 'holds' : r.shares.some((s) => s <= 0) ? 'contradicted' : 'not shown' };
}

/**
 * The paper's findings scored on a reproduction's studies and Section 4 analyses, in the paper's order.
 * @param parts - The plan's studies by name (missing ones make their rows "not shown").
 * @param analyses - Section 4's analyses of the retina study's models.
 * @returns One row per finding (Tables 1-3, Figures 2-4 and 6-8).
 * @throws ERR_INVALID_ARG when parts is not a Map of the plan's studies or the analyses are not a reproduction's;
 *   ERR_BAD_DATA when a study's results lack the runs and settings the rules read.
 */
export function scoreFindings(parts: Map<PartName, StudyResults>, analyses: Partial<Record<Analysis, RepresentationResults>>): Finding[] {
  checkStudyParts('scoreFindings()', parts, analyses, true);
  const chest = parts.get('chexpert');
  return [
    littleBenefit('transfer-little-benefit', 'Table 1', parts.get('retina'), 'ResNet-50 +0.3, Inception-v3 +0.1, CBR models 0 to +0.1 AUC points'),
    smallComparable(parts.get('retina')),
    pretrainingNotPredictive(parts.get('retina')),
    littleBenefit('transfer-little-benefit-chest', 'Table 2', chest, 'mixed, within about ±1 AUC point per pathology'),
    smallData(parts.get('small-data')),
    representationsDiffer(analyses.similarity),
    changeLess(analyses.layers),
    reuseLowest(analyses.layers),
    initPredictsFinal(analyses['init-vs-final']),
    meanVar(parts),
    lowestSpeedUp(parts),
    hybrids(parts),
  ];
}
