// Section 4's tables for report.md, from results.json's `representations` alone.
import { meanStd } from '../metrics';
import { isReliable, pairKind, type RepresentationResults, type SimilarityRecord } from '../experiments/representations';
import { cell, transferSection } from './transfer-tables';


/** A dagger where a stage had fewer than 10 datapoints per neuron (CCA is biased upward there). */
const thin = (records: SimilarityRecord[]) => (records.some((r) => !isReliable(r)) ? ' †' : '');

const byModel = (r: RepresentationResults) => [...new Set(r.records.map((x) => x.model))];

function figure2(r: RepresentationResults): string[] {
  const lines = [
    '## Figure 2: CCA similarity of the top two stages, pretrained-init against random-init models',
    '',
    '| Model | Stages | Transfer vs random: mean CCA | Random vs random: mean CCA | Transfer vs random: linear CKA | Random vs random: linear CKA |',
    '|---|---|---|---|---|---|',
  ];
  for (const model of byModel(r)) {
    const records = r.records.filter((x) => x.model === model && x.compared === 'final');
    const stages = [...new Set(records.map((x) => x.stage))];
    // One value per pair: the average over the stages, as the paper averages its top two layers.
    const perPair = (kind: string, metric: 'meanCca' | 'linearCka') => {
      const pairs = new Map<string, number[]>();
      for (const x of records.filter((x) => pairKind(x) === kind)) {
        const key = `${x.a.init}${x.a.seed}-${x.b.init}${x.b.seed}`;
        pairs.set(key, [...(pairs.get(key) ?? []), x[metric]]);
      }
      return [...pairs.values()].map((v) => v.reduce((a, b) => a + b, 0) / v.length);
    };
    lines.push(
      `| ${model} | ${stages.join(', ')}${thin(records)} | ${cell(perPair('transfer-random', 'meanCca'))} | ${cell(perPair('random-random', 'meanCca'))} | ` +
        `${cell(perPair('transfer-random', 'linearCka'))} | ${cell(perPair('random-random', 'linearCka'))} |`,
    );
  }
  lines.push(
    '',
    'Each pair of trained models is scored by the average over the stages; mean ± std over pairs (every transfer seed with every ' +
      'random seed; random seeds with each other). The paper finds the two close for the small CBR models and further apart for ' +
      'ResNet-50 and Inception-v3.',
    '',
  );
  return lines;
}

function figure3(r: RepresentationResults): string[] {
  const lines = [
    '## Figure 3: per-stage CCA similarity of each trained model with its own initialisation',
    '',
    '| Model | Stage | Random init | Transfer | Transfer − random |',
    '|---|---|---|---|---|',
  ];
  for (const model of byModel(r)) {
    const records = r.records.filter((x) => x.model === model && x.compared === 'self');
    for (const stage of [...new Set(records.map((x) => x.stage))]) {
      const at = records.filter((x) => x.stage === stage);
      const values = (init: string) => at.filter((x) => x.a.init === init).map((x) => x.meanCca);
      const diff = meanStd(values('transfer')).mean - meanStd(values('random')).mean;
      lines.push(`| ${model} | ${stage}${thin(at)} | ${cell(values('random'))} | ${cell(values('transfer'))} | ${Number.isFinite(diff) ? diff.toFixed(3) : '—'} |`);
    }
  }
  lines.push('', 'Mean CCA between a stage after training and the same stage at initialisation, mean ± std over seeds.', '');
  return lines;
}

function figure4(r: RepresentationResults): string[] {
  const lines = [
    '## Figure 4: similarity at initialisation against after training',
    '',
    '| Model | Stage | Pairs | n | R² | Slope | Mean CCA at init | Mean CCA trained |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const f of r.fits) {
    const chosen = (compared: 'init' | 'final') =>
      r.records.filter((x) => x.model === f.model && x.stage === f.stage && x.compared === compared && (f.pairs === 'all' || pairKind(x) === f.pairs)).map((x) => x.meanCca);
    const fmt = (v: number | null) => (v === null ? '—' : v.toFixed(3));
    const at = r.records.filter((x) => x.model === f.model && x.stage === f.stage);
    lines.push(`| ${f.model} | ${f.stage}${thin(at)} | ${f.pairs} | ${f.n} | ${fmt(f.r2)} | ${fmt(f.slope)} | ${cell(chosen('init'))} | ${cell(chosen('final'))} |`);
  }
  lines.push(
    '',
    'Each pair of runs (transfer with random, random with random) gives a point: x its mean CCA at initialisation, y after ' +
      'training; R² of the least-squares line (— with fewer than 3 points or no spread at initialisation: transfer inits ' +
      'share their weights below the head, so their pairs with one random seed share x). The paper: R² 0.75 and 0.84 for ResNet conv1.',
    '',
  );
  return lines;
}

function figure5(r: RepresentationResults): string[] {
  const lines = ['## Figure 5: conv1 filters before and after training', ''];
  for (const file of r.figures) lines.push(`![${file}](${file})`, '');
  lines.push(
    'Each image: the first filters of conv1 at random init, random init trained, pretrained init, pretrained trained (left to ' +
      'right); each filter scaled to its own range around grey, RGB for the three input channels.',
    '',
    '| Model | Init | Seed | Parameter | ‖W_trained − W_init‖ / ‖W_init‖ |',
    '|---|---|---|---|---|',
  );
  for (const f of r.filters) lines.push(`| ${f.model} | ${f.init} | ${f.seed} | ${f.parameter} | ${f.relativeChange.toFixed(4)} |`);
  lines.push('');
  return lines;
}

export function representationSection(r: RepresentationResults): string[] {
  const beyond = transferSection(r);
  if (beyond) return beyond;
  const lines =
    r.analysis === 'similarity' ? figure2(r) : r.analysis === 'layers' ? figure3(r) : r.analysis === 'init-vs-final' ? figure4(r) : figure5(r);
  if (r.analysis !== 'filters') {
    lines.push(
      `Probe: ${r.probe.probeSize} task images of their own seed; conv stages keep ${r.probe.maxDatapoints || 'max(20,000, 10 × channels)'} ` +
        'positions (the same for every model). † marks a stage with fewer than 10 datapoints per neuron, where CCA reads high.',
      '',
    );
    for (const s of r.skipped) lines.push(`- Left out: ${s.model} ${s.stage}: ${s.reason}.`);
    if (r.skipped.length) lines.push('');
  }
  return lines;
}
