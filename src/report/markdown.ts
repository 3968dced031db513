// report.md from results.json alone: Table 1 in the paper's form (AUC mean ± std per model and initialisation,
// parameters, pretraining accuracy) for Table 1 studies, the convergence table (steps to the threshold AUC per arm)
// wherever validation ran during training, then the settings and every run.
import * as path from 'node:path';

import { meanStd } from '../metrics';
import { EXPERIMENTS } from '../experiments/catalog';
import type { StudyResults } from '../experiments/results';
import type { Provenance } from '../provenance';
import { representationSection } from './representations';
import { terminalSafe } from '../io/paths';

/** The default uncertainty policy by finding name (without calling the addon: reports render from results alone). */
const defaultUncertaintyPolicyNames = (labels: string[]) =>
  Object.fromEntries(labels.map((f) => [f, f === 'Atelectasis' || f === 'Edema' ? 'ones' : 'zeros']));

export const pct = (x: number | null | undefined) => (typeof x === 'number' && Number.isFinite(x) ? (100 * x).toFixed(2) : 'n/a');
const count = (n: number) => n.toLocaleString('en-US');

function aucCell(values: number[]): string {
  if (values.length === 0) return '—';
  const { mean, std, n } = meanStd(values);
  // One seed has no spread to show: "± 0.00" would claim one.
  return n === 1 ? `${pct(mean)} ± — (n=1)` : `${pct(mean)} ± ${pct(std)} (n=${n})`;
}

export function table1(r: StudyResults): string[] {
  const s = r.spec;
  const lines: string[] =
    s.experiment === 'small-data'
      ? [`## Table 3: random initialisation against transfer with ${count(r.task.trainSize)} training images`, '']
      : ['## Table 1: random initialisation against transfer', ''];
  lines.push('| Model | Random init AUC | Transfer AUC | Parameters (paper) | Parameters (numel) | Pretraining top-1 / top-5 |');
  lines.push('|---|---|---|---|---|---|');
  for (const m of r.models) {
    const aucs = (init: string) => r.runs.filter((x) => x.model === m.name && x.init === init).map((x) => x.auc);
    const from = r.runs.find((x) => x.model === m.name && x.load)?.load?.from ?? m.name;
    const pre = r.pretraining.find((p) => p.model === from);
    const via = from === m.name ? '' : ` (${from}'s)`;
    const preCell = !pre ? '—' : pre.source === 'file' ? `your weights: ${path.basename(pre.weights)}${via}` : `${pct(pre.top1)} / ${pct(pre.top5)}${pre.cached ? ' (cached)' : ''}${via}`;
    lines.push(`| ${m.displayName} | ${aucCell(aucs('random'))} | ${aucCell(aucs('transfer'))} | ${count(m.params.paper)} | ${count(m.params.numel)} | ${preCell} |`);
  }
  lines.push('');
  lines.push(
    'AUC: mean ± sample standard deviation over seeds. Parameters (paper): for the CBR models Table 1\'s convention ' +
      '(every conv but the first, and a 5-way head without bias); for ResNet-50 and Inception-v3 the counts Table 1 prints ' +
      '(TF-slim variants); for Slim, numel. Parameters (numel): every parameter with a 5-way head. Pretraining: accuracy (%) ' +
      `on the held-out set of ${s.pretrain.source === 'files' ? `your pretraining data (\`${s.pretrain.data?.path}\`, ${s.pretrain.classes} classes)` : `the embedded ${s.pretrain.classes}-class natural-image source`}, where Table 1 reports ImageNet top-5.`,
    '',
  );
  return lines;
}

/** Table 2: per-finding AUC of each model and initialisation on the chest task. */
export function table2(r: StudyResults): string[] {
  const labels = r.task.labels;
  const lines = [
    '## Table 2: AUC per pathology, random initialisation against transfer',
    '',
    `| Model | Init | ${labels.join(' | ')} | Mean |`,
    `|---|---|${labels.map(() => '---|').join('')}---|`,
  ];
  const arms = [...new Map(r.runs.map((x) => [`${x.model} ${x.init}`, { model: x.model, init: x.init }])).values()];
  for (const arm of arms) {
    const runs = r.runs.filter((x) => x.model === arm.model && x.init === arm.init);
    const per = labels.map((l) => aucCell(runs.map((x) => x.aucs?.[l]).filter((v): v is number => typeof v === 'number')));
    lines.push(`| ${arm.model} | ${arm.init} | ${per.join(' | ')} | ${aucCell(runs.map((x) => x.auc))} |`);
  }
  lines.push('', 'Validation AUC-ROC (%) per finding, mean ± sample standard deviation over seeds; Mean: the mean over findings per run.', '');
  return lines;
}

/** Steps to the threshold AUC and final AUC per arm (Figures 6-8 in table form). */
export function convergence(r: StudyResults): string[] {
  const arms = [...new Map(r.runs.map((x) => [`${x.model} ${x.init}`, { model: x.model, init: x.init }])).values()];
  if (!arms.length || r.spec.train.evalEvery === 0) return [];
  const lines = [
    `## Convergence: steps to validation AUC ≥ ${pct(r.spec.threshold)}%`,
    '',
    '| Model | Init | Steps to threshold (mean ± std over runs that reached it) | Reached | Final AUC |',
    '|---|---|---|---|---|',
  ];
  for (const arm of arms) {
    const runs = r.runs.filter((x) => x.model === arm.model && x.init === arm.init);
    const reached = runs.map((x) => x.stepsToThreshold).filter((x): x is number => x !== null);
    const steps = reached.length ? meanStd(reached) : undefined;
    const stepsCell = steps ? `${steps.mean.toFixed(1)} ± ${steps.std.toFixed(1)}` : 'never';
    lines.push(`| ${arm.model} | ${arm.init} | ${stepsCell} | ${reached.length}/${runs.length} | ${aucCell(runs.map((x) => x.auc))} |`);
  }
  lines.push('', `Validation every ${r.spec.train.evalEvery} steps: steps-to-threshold has that resolution.`, '');
  return lines;
}

/** AUPRC (and AUC's mean bootstrap interval) per arm, beside AUC: where transfer helps precision while AUC-ROC is flat. */
function auprcTable(r: StudyResults): string[] {
  if (!r.runs.some((x) => x.auprc !== undefined)) return [];
  const arms = [...new Map(r.runs.map((x) => [`${x.model} ${x.init}`, { model: x.model, init: x.init }])).values()];
  const withKappa = r.runs.some((x) => x.kappa !== undefined);
  const lines = [
    '## AUPRC beside AUC per arm',
    '',
    `| Model | Init | AUC | AUPRC | Mean 95% CI of AUC |${withKappa ? ' Kappa |' : ''}`,
    `|---|---|---|---|---|${withKappa ? '---|' : ''}`,
  ];
  const numbers = (values: (number | null | undefined)[]) => values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  for (const arm of arms) {
    const runs = r.runs.filter((x) => x.model === arm.model && x.init === arm.init);
    const lo = numbers(runs.map((x) => x.aucCi?.[0])), hi = numbers(runs.map((x) => x.aucCi?.[1]));
    const ci = lo.length && hi.length ? `[${pct(meanStd(lo).mean)}, ${pct(meanStd(hi).mean)}]` : '—';
    const kappas = numbers(runs.map((x) => x.kappa));
    const kappa = kappas.length ? (({ mean, std, n }) => ` ${mean.toFixed(3)} ± ${std.toFixed(3)} (n=${n}) |`)(meanStd(kappas)) : ' — |';
    lines.push(`| ${arm.model} | ${arm.init} | ${aucCell(runs.map((x) => x.auc))} | ${aucCell(numbers(runs.map((x) => x.auprc)))} | ${ci} |${withKappa ? kappa : ''}`);
  }
  lines.push(
    '',
    'AUC and AUPRC (%): mean ± sample standard deviation over seeds; AUPRC is average precision (mean over outputs), ' +
      'whose chance level is the positive rate rather than 50%. Mean 95% CI: the mean over seeds of each run\'s bootstrap interval bounds ' +
      '(the uncertainty from the validation set\'s size, which the spread over seeds does not show).' +
      (withKappa ? ' Kappa: quadratic-weighted kappa of the top (argmax) grade against the label, mean ± std over seeds (the Kaggle EyePACS metric; 0 is chance, 1 agreement).' : ''),
    '',
  );
  return lines;
}

/**
 * A study's report in Markdown (report.md): the experiment and why, the data, the paper's table for the experiment,
 * convergence, Section 4's analysis when present, and the settings. A pure function of the results.
 * @param r - The study's results ({@link runStudy}, {@link readResults}).
 * @returns The Markdown text.
 */
export function renderReport(r: StudyResults): string {
  const s = r.spec;
  const lines: string[] = [];
  lines.push(`# Transfusion study \`${s.name}\` (${EXPERIMENTS[s.experiment].figure}: ${EXPERIMENTS[s.experiment].description})`, '');
  lines.push(`${s.why}`, '');
  if (r.shard)
    lines.push(`_Shard ${r.shard.index}/${r.shard.count} of the study: its every ${r.shard.count}th run from run ${r.shard.index + 1}. Merge the shards with \`transfusion-native report DIRS.. --out DIR\`._`, '');
  if (r.mergedFrom) lines.push(`Merged from ${r.mergedFrom.length} shards: ${r.mergedFrom.map((d) => `\`${d}\``).join(', ')}.`, '');
  if (r.data) {
    const d = r.data;
    const grade = s.task.data?.target === 'grade';
    const outputs = grade
      ? `the 5-level DR grade (${r.task.labels.length} classes; AUC: referable DR, grade ≥ 2, scored by P(grade ≥ 2); kappa: quadratic-weighted, of the top grade)`
      : r.task.multiclass
        ? `${r.task.labels.length} classes${r.task.labels.length > 5 ? '' : ` (${r.task.labels.join(', ')})`}; AUC: the mean over classes of each class's AUC against the rest, scored by its softmax probability`
        : r.task.labels.length > 3 ? `${r.task.labels.length} outputs` : r.task.labels.join(', ');
    const dropped = d.dropped?.length ? d.dropped.map((x) => `${x.reason}: ${count(x.count)}`).join('; ') : 'none';
    lines.push(
      `Task: your data, ${d.format} at \`${d.path}\`: ${outputs}; ` +
        `${count(r.task.trainSize)} training images (of ${count(d.available.train)} in the training split), ` +
        `${count(r.task.valSize)} validation (of ${count(d.available.val)}), ${s.task.imageSize}×${s.task.imageSize} px. ` +
        `${d.dropped ? `Rows left out by the format's rules: ${dropped}. ` : ''}Images left out (unreadable, --on-bad-image skip): ${d.skipped.length}.`,
      '',
    );
    for (const x of d.skipped.slice(0, 10)) lines.push(`- skipped: ${x.where}: ${x.reason}`);
    if (d.skipped.length > 10) lines.push(`- ... and ${d.skipped.length - 10} more (results.json lists them all)`);
    if (d.skipped.length) lines.push('');
  } else if (s.task.source === 'chest') {
    const prevalence = (per: number[] | undefined, n: number) => (per ?? []).map((p, i) => `${r.task.labels[i]} ${((100 * p) / n).toFixed(0)}%`).join(', ');
    lines.push(
      `Task: embedded CheXpert-like chest radiographs, ${s.task.imageSize}×${s.task.imageSize} px, five findings (multi-label); ` +
        `${count(r.task.trainSize)} training images (positive: ${prevalence(r.task.trainPositivesPerLabel, r.task.trainSize)}; ` +
        `${(100 * (s.task.uncertainRate ?? 0.1)).toFixed(0)}% of labels uncertain, resolved per finding: ` +
        `${Object.entries({ ...defaultUncertaintyPolicyNames(r.task.labels), ...(s.task.policy ?? {}) }).map(([f, p]) => `${f} ${p}`).join(', ')}), ` +
        `${count(r.task.valSize)} validation (positive: ${prevalence(r.task.valPositivesPerLabel, r.task.valSize)}; no uncertain labels). ` +
        'Metric: validation AUC-ROC (%).',
      '',
    );
  } else {
    lines.push(
      `Task: embedded RETINA-like fundus images, ${s.task.imageSize}×${s.task.imageSize} px, label "referable DR" (grade ≥ 2); ` +
        `${count(r.task.trainSize)} training images (${count(r.task.trainPositives)} referable), ` +
        `${count(r.task.valSize)} validation (${count(r.task.valPositives)} referable). Metric: validation AUC-ROC (%).`,
      '',
    );
  }
  if (r.task.labels.length > 1 && r.task.trainPositivesPerLabel) lines.push(...table2(r));
  else if (s.experiment === 'table1' || s.experiment === 'small-data') lines.push(...table1(r));
  lines.push(...convergence(r));
  lines.push(...auprcTable(r));
  if (r.representations) lines.push(...representationSection(r.representations));
  lines.push('## Settings', '');
  const t = s.train;
  lines.push(`- Fine-tuning: ${t.steps} steps, batch ${t.batchSize}, ${t.optimizer}, ${t.schedule.kind} schedule from lr ${t.schedule.lr}, weight decay ${t.weightDecay}; seeds ${s.seeds.join(', ')}.`);
  if (t.patience) lines.push(`- Early stopping: a run stops after ${t.patience} evaluations in a row without a better validation AUC (${r.runs.filter((x) => x.stoppedEarly).length} of ${r.runs.length} runs stopped early).`);
  if (t.keepBest) lines.push('- Each run ends with its best evaluation\'s weights: its AUC is that evaluation\'s (keep-best), not the last step\'s.');
  if (s.saveWeights) lines.push(`- Trained weights (${s.saveWeights}) kept in \`weights/\`, one file per run.`);
  const p = s.pretrain;
  lines.push(`- Pretraining: ${p.steps} steps, batch ${p.batchSize}, ${p.optimizer}, lr ${p.schedule.lr}, on ${count(p.trainSize)} images of ${p.classes} classes at ${p.imageSize} px.`);
  const raised = r.models.filter((m) => m.imageSize !== s.task.imageSize);
  if (raised.length)
    lines.push(`- Per-model input size (what the architecture needs, or set with --image-size): ${raised.map((m) => `${m.displayName} ${m.imageSize} px`).join(', ')} (task and pretraining).`);
  lines.push(`- Padding: ${s.padding}. Device: ${s.device}. LibTorch ${r.environment.torch}, ${r.environment.threads} thread(s), Node ${r.environment.node}.`);
  const devices = new Map<string, number>();
  for (const x of r.runs) if (x.device) devices.set(x.device, (devices.get(x.device) ?? 0) + 1);
  if (devices.size > 1 || (devices.size === 1 && !devices.has(s.device)))
    lines.push(`- Resumed on another device: runs trained on ${[...devices].map(([d, n]) => `${d} (${n})`).join(', ')}.`);
  if (r.provenance) lines.push(`- ${provenanceLine(r.provenance)}`);
  if (r.data?.filesHash) lines.push(`- Data files: ${r.data.format} at \`${r.data.path}\`, list SHA-256 ${r.data.filesHash.slice(0, 16)}… (results.json holds it whole).`);
  if (r.distributed)
    lines.push(`- Data parallel over ${r.distributed.worldSize} ranks (${r.distributed.backend}): each batch of ${s.train.batchSize} split ${s.train.batchSize / r.distributed.worldSize} per rank, gradients averaged; BatchNorm statistics ${r.distributed.syncBatchNorm ? 'synchronised over the ranks' : 'per rank'}.`);
  lines.push('');
  lines.push('## Runs', '');
  // AUPRC and kappa columns only where some run has them (results written before them have neither).
  const withAuprc = r.runs.some((x) => x.auprc !== undefined), withKappa = r.runs.some((x) => x.kappa !== undefined);
  const extra = [...(withAuprc ? ['AUPRC'] : []), ...(withKappa ? ['Kappa'] : [])];
  lines.push(`| Model | Init | Seed | Image px | AUC${r.runs.some((x) => x.aucCi) ? ' [95% CI]' : ''} | ${extra.map((c) => `${c} | `).join('')}Final loss | Steps | Seconds | Images/s |`);
  lines.push(`|---|---|---|---|---|${extra.map(() => '---|').join('')}---|---|---|---|`);
  for (const x of r.runs) {
    const cells = [...(withAuprc ? [pct(x.auprc ?? null)] : []), ...(withKappa ? [x.kappa === undefined || x.kappa === null ? 'n/a' : x.kappa.toFixed(3)] : [])];
    lines.push(
      `| ${x.model} | ${x.init} | ${x.seed} | ${x.imageSize} | ${pct(x.auc)}${x.aucCi ? ` [${pct(x.aucCi[0])}, ${pct(x.aucCi[1])}]` : ''} | ${cells.map((c) => `${c} | `).join('')}` +
        `${x.finalLoss.toFixed(4)} | ${x.steps} | ${x.wallSeconds.toFixed(1)} | ${x.imagesPerSecond.toFixed(0)} |`,
    );
  }
  lines.push('');
  if (r.runs.some((x) => x.aucCi))
    lines.push(
      'AUC [95% CI]: validation AUC-ROC (%) and its bootstrap percentile interval (1000 resamples of the validation images, not stratified, seeded with the run\'s seed). ' +
        `AUPRC: average precision (%), mean over ${r.task.multiclass && s.task.data?.target !== 'grade' ? 'classes (each against the rest)' : 'outputs'}.${withKappa ? ' Kappa: quadratic-weighted, of the top grade (the grade target).' : ''}`,
      '',
    );
  if (!r.finishedAt) lines.push(`_In progress: ${r.runs.length} run(s) finished so far._`, '');
  // Text from the results (a study's name, its why, a data path) keeps no control character: an escape sequence
  // would reach a terminal that shows report.md, and the page.
  return terminalSafe(lines.join('\n'));
}

/** Who made a results file, in one line: package and commit, command, CPU, GPU, LibTorch's build. */
export function provenanceLine(p: Provenance): string {
  const b = p.torch.build;
  const build = ['BLAS_INFO', 'USE_CUDA', 'USE_MKLDNN', 'USE_OPENMP', 'BUILD_TYPE'].filter((k) => b[k] !== undefined).map((k) => `${k}=${b[k]}`).join(', ');
  return `Made by transfusion-native ${p.package}${p.commit ? ` (commit ${p.commit.slice(0, 12)})` : ''} with \`${p.command.join(' ').replace(/`/g, "'")}\`, on ${p.cpu.model} ` +
    `(${p.cpu.cores} cores, ${(p.cpu.memoryBytes / 2 ** 30).toFixed(0)} GiB)${p.gpu ? ` and ${p.gpu}` : ''}; LibTorch ${p.torch.version}${build ? ` (${build})` : ''}.`;
}
