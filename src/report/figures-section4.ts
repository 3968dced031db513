// Section 4's figures from results.json's `representations`: Figure 2 (CCA of the top two stages, transfer against
// random with random against random as the baseline), Figure 3 (each stage against its own initialisation) and
// Figure 4 (pair similarity at initialisation against after training, with R²). Figure 5 is the filters' own PNG.
import { isReliable, pairKind, type SimilarityRecord } from '../experiments/representations';
import type { StudyResults } from '../experiments/results';
import { displayName, FIGURE_WIDTH, mergedOrder, ordered, PRINT_STYLE, summary, type Figure } from './chart';
import { heatmapFigure } from './heatmap';
import { bars, modelPanels, only, SCHEMA, type Row } from './layers';

const PAIRS = { 'transfer-random': 'Transfer vs random', 'random-random': 'Random vs random' } as const;
const STAGE_COLOURS = ['#4c78a8', '#72b7b2', '#54a24b', '#b8a52a', '#f58518', '#e45756', '#b279a2', '#9d755d'];
const pairKey = (x: SimilarityRecord) => `${x.a.init}:${x.a.seed}|${x.b.init}:${x.b.seed}`;
/** Points filled where reliable, hollow (outline only) where a stage has fewer than 10 datapoints per neuron. */
const hollowUnless = { fillOpacity: { condition: { test: 'datum.reliable', value: 0.8 }, value: 0 } } as const;
const UNRELIABLE_NOTE = ' Hollow points: fewer than 10 datapoints per neuron at that stage, where CCA reads high; trust them less.';

/** Figure 2: per model, the mean CCA of a pair of trained models (averaged over the top two stages), over pairs. */
export function similarityBars(r: StudyResults): Figure | undefined {
  const rep = r.representations;
  if (rep?.analysis !== 'similarity') return undefined;
  const rows: Row[] = [];
  for (const model of ordered(rep.records.map((x) => x.model))) {
    const records = rep.records.filter((x) => x.model === model && x.compared === 'final');
    for (const [kind, comparison] of Object.entries(PAIRS)) {
      const pairs = new Map<string, number[]>();
      for (const x of records.filter((x) => pairKind(x) === kind)) pairs.set(pairKey(x), [...(pairs.get(pairKey(x)) ?? []), x.meanCca]);
      const values = [...pairs.values()].map((v) => v.reduce((a, b) => a + b, 0) / v.length);
      const s = summary(values);
      if (!s) continue;
      const group = displayName(r, model);
      rows.push({ kind: 'mean', group, comparison, mean: s.mean, lo: s.lo, hi: s.hi, n: s.n });
      for (const value of values) rows.push({ kind: 'run', group, comparison, value });
    }
  }
  if (!rows.length) return undefined;
  const groups = ordered(rows.map((x) => String(x.group)));
  return {
    name: 'figure-2',
    title: 'Figure 2: CCA similarity of the top two stages, transfer against random init',
    caption:
      'Each pair of trained models is scored by its mean CCA averaged over the two stages below the head; bars: the mean over ' +
      'pairs (every transfer seed with every random seed; random seeds with each other, the baseline), error bars ±1 std over ' +
      'pairs, dots: single pairs. Transfer close to the random baseline means pretraining left little trace in the representations.',
    section: 'Figure 2',
    spec: {
      $schema: SCHEMA, config: PRINT_STYLE, title: 'Similarity of trained models (top two stages)', data: { values: rows },
      width: Math.min(FIGURE_WIDTH - 80, 60 + 100 * groups.length), height: 280,
      layer: bars({
        x: 'group', xTitle: 'Model', series: 'comparison', yTitle: 'Mean CCA similarity', domain: [0, 1], base: 0,
        colour: { domain: Object.values(PAIRS), range: ['#e45756', '#4c78a8'], title: 'Pairs of trained models' },
      }),
    },
  };
}

/** Figure 2's heatmaps: per model, every layer of a trained transfer run against every layer of a random one. */
export function layerHeatmaps(r: StudyResults): Figure | undefined {
  const maps = r.representations?.analysis === 'similarity' ? (r.representations.heatmaps ?? []) : [];
  if (!maps.length) return undefined;
  const run = (x: { init: string; seed: number }) => `${x.init} seed ${x.seed}`;
  return heatmapFigure(
    'figure-2-heatmaps',
    'Figure 2, every layer: minibatch CKA of a transfer-trained model against a random-init one',
    'Each cell is the linear CKA (Nguyen, Raghu and Kornblith 2021: unbiased HSIC averaged over minibatches of the probe) of ' +
      'one layer of the first trained model (rows, input at the bottom) with one layer of the second (columns): every block ' +
      'and conv output, not only the named stages. A bright diagonal says the two trainings built corresponding ' +
      'representations layer by layer; a bright block off it, that one model reached a representation at another depth.',
    'Figure 2',
    maps.map((h) => ({ title: `${displayName(r, h.model)}: ${run(h.a)} (rows) vs ${run(h.b)}`, rowsTitle: run(h.a), columnsTitle: run(h.b), layersA: h.layersA, layersB: h.layersB, values: h.values })),
  );
}

/** Figure 3: per stage, each trained model's similarity with its own initialisation, and transfer minus random. */
export function layerLines(r: StudyResults): Figure | undefined {
  const rep = r.representations;
  if (rep?.analysis !== 'layers') return undefined;
  const series = ['Random init', 'Transfer', 'Transfer − random'];
  const rows: Row[] = [];
  for (const model of ordered(rep.records.map((x) => x.model))) {
    const records = rep.records.filter((x) => x.model === model && x.compared === 'self');
    for (const stage of ordered(records.map((x) => x.stage))) {
      const of = (init: string) => summary(records.filter((x) => x.stage === stage && x.a.init === init).map((x) => x.meanCca));
      const random = of('random'), transfer = of('transfer');
      const group = displayName(r, model);
      const reliable = records.filter((x) => x.stage === stage).every(isReliable);
      if (random) rows.push({ model: group, stage, series: series[0], mean: random.mean, lo: random.lo, hi: random.hi, n: random.n, reliable });
      if (transfer) rows.push({ model: group, stage, series: series[1], mean: transfer.mean, lo: transfer.lo, hi: transfer.hi, n: transfer.n, reliable });
      if (random && transfer) rows.push({ model: group, stage, series: series[2], mean: transfer.mean - random.mean, lo: null, hi: null, n: null, reliable });
    }
  }
  if (!rows.length) return undefined;
  const low = Math.min(0, ...rows.map((x) => Number(x.lo ?? x.mean)));
  const x = { field: 'stage', type: 'ordinal' as const, sort: null, title: 'Stage (input to output)', axis: { labelAngle: 0 } };
  const y = { type: 'quantitative' as const, title: 'Mean CCA vs own init', scale: { domain: [Math.floor(low * 10) / 10, 1] } };
  const color = { field: 'series', type: 'nominal' as const, title: null, scale: { domain: series, range: ['#4c78a8', '#e45756', '#555555'] }, legend: { orient: 'bottom' as const, symbolType: 'stroke', symbolStrokeWidth: 2.5 } };
  return {
    name: 'figure-3',
    title: 'Figure 3: per-stage similarity of each trained model with its own initialisation',
    caption:
      'Mean CCA between a stage after training and the same stage at initialisation, mean over seeds with ±1 std error bars, ' +
      'for random init and transfer; dashed: their difference (transfer − random). The paper finds pretrained models change ' +
      'less, most of all in the lowest stages, while random-init lower stages move the most.' + (rows.some((x) => !x.reliable) ? UNRELIABLE_NOTE : ''),
    section: 'Figure 3',
    spec: modelPanels('Similarity with own initialisation, per stage', rows, {
      layer: [
        { mark: { type: 'rule', y: 0, color: '#999', strokeWidth: 1 }, encoding: { y: { datum: 0 } } },
        {
          mark: { type: 'line', strokeWidth: 2 },
          encoding: { x, y: { ...y, field: 'mean' }, color, strokeDash: { field: 'series', type: 'nominal', scale: { domain: series, range: [[1, 0], [1, 0], [5, 4]] }, title: null, legend: { orient: 'bottom', symbolType: 'stroke', symbolStrokeWidth: 2.5 } } },
        },
        { mark: { type: 'point', size: 40, filled: true, strokeWidth: 1.5 }, encoding: { x, y: { ...y, field: 'mean' }, color, stroke: color, ...hollowUnless } },
        { transform: [{ filter: 'datum.lo !== null' }], mark: { type: 'rule', strokeWidth: 1.5 }, encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color } },
      ],
    }, { independentX: true }),
  };
}

/** Figure 4: each pair's mean CCA at initialisation (x) against after training (y), a colour per stage, R² per stage. */
export function initFinalScatter(r: StudyResults): Figure | undefined {
  const rep = r.representations;
  if (rep?.analysis !== 'init-vs-final') return undefined;
  const key = (x: SimilarityRecord) => `${x.model}|${x.stage}|${pairKey(x)}`;
  const finals = new Map(rep.records.filter((x) => x.compared === 'final').map((x) => [key(x), x] as const));
  const rows: Row[] = [], labels: Row[] = [];
  const modelNames = ordered(rep.records.map((x) => x.model));
  const stages = mergedOrder(modelNames.map((m) => ordered(rep.records.filter((x) => x.model === m).map((x) => x.stage))));
  for (const model of modelNames) {
    const group = displayName(r, model);
    for (const stage of stages) {
      const points = rep.records
        .filter((x) => x.model === model && x.stage === stage && x.compared === 'init' && finals.has(key(x)))
        .map((x) => ({ pairs: pairKind(x), x: x.meanCca, y: finals.get(key(x))!.meanCca, reliable: isReliable(x) && isReliable(finals.get(key(x))!) }));
      for (const p of points) if (p.pairs !== 'other') rows.push({ kind: 'pair', model: group, stage, pairs: PAIRS[p.pairs], x: p.x, y: p.y, reliable: p.reliable });
      const fit = rep.fits.find((f) => f.model === model && f.stage === stage && f.pairs === 'all');
      if (!fit || !points.length) continue;
      labels.push({ kind: 'r2', model: group, stage, label: `${stage}: R² ${fit.r2 === null ? '—' : fit.r2.toFixed(2)}` });
      if (fit.slope === null) continue;
      // The least-squares line passes through the mean point; drawn over the points' x range.
      const mx = points.reduce((a, p) => a + p.x, 0) / points.length, my = points.reduce((a, p) => a + p.y, 0) / points.length;
      for (const x of [Math.min(...points.map((p) => p.x)), Math.max(...points.map((p) => p.x))])
        rows.push({ kind: 'fit', model: group, stage, x, y: my + fit.slope * (x - mx) });
    }
  }
  if (!rows.some((x) => x.kind === 'pair')) return undefined;
  // R² per stage, listed in the bottom-right corner of each panel (shallowest stage on top), in data coordinates.
  for (const model of ordered(labels.map((x) => x.model))) {
    const mine = labels.filter((x) => x.model === model);
    mine.forEach((x, i) => rows.push({ ...x, x: 0.98, y: 0.03 + 0.075 * (mine.length - 1 - i) }));
  }
  const used = stages.filter((s) => rows.some((x) => x.stage === s));
  const color = { field: 'stage', type: 'nominal' as const, title: 'Stage', legend: { orient: 'bottom' as const, columns: 3 }, scale: { domain: used, range: used.map((_, i) => STAGE_COLOURS[i % STAGE_COLOURS.length]) } };
  const x = { field: 'x', type: 'quantitative' as const, title: 'Mean CCA at initialisation', scale: { domain: [0, 1] } };
  const y = { field: 'y', type: 'quantitative' as const, title: 'Mean CCA after training', scale: { domain: [0, 1] } };
  return {
    name: 'figure-4',
    title: 'Figure 4: pair similarity at initialisation against after training',
    caption:
      'Each point is a pair of runs (transfer with random: +; random with random: ●) at one stage: x its mean CCA at ' +
      'initialisation, y after training. Lines: least-squares fits per stage over all pairs, whose R² each panel lists ' +
      '(— with fewer than 3 points or no spread at initialisation). Grey diagonal: unchanged similarity. The paper finds ' +
      'similarity at initialisation predicts it after training in the lowest stages (R² 0.75 and 0.84 for ResNet conv1).' +
      (rows.some((x) => x.kind === 'pair' && !x.reliable) ? UNRELIABLE_NOTE : ''),
    section: 'Figure 4',
    spec: modelPanels('Similarity: at initialisation vs trained', rows, {
      layer: [
        { mark: { type: 'rule', color: '#bbb', strokeDash: [4, 4] }, encoding: { x: { datum: 0, scale: { domain: [0, 1] } }, y: { datum: 0 }, x2: { datum: 1 }, y2: { datum: 1 } } },
        { transform: only('fit'), mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x, y, color, detail: { field: 'stage' } } },
        {
          transform: only('pair'), mark: { type: 'point', size: 60, filled: true, strokeWidth: 1.5 },
          encoding: { x, y, color, stroke: color, ...hollowUnless, shape: { field: 'pairs', type: 'nominal', title: 'Pairs', legend: { orient: 'bottom', direction: 'vertical' }, scale: { domain: Object.values(PAIRS), range: ['cross', 'circle'] } } },
        },
        { transform: only('r2'), mark: { type: 'text', align: 'right', baseline: 'bottom', fontSize: 11 }, encoding: { x, y, text: { field: 'label' }, color } },
      ],
    }, { height: 250 }),
  };
}
