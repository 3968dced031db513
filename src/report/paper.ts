// The reproduction's one report, in the paper's order: the findings scorecard, Figure 1's example images, Tables 1-3,
// Figures 2-8, then each study's settings. Built from DIR/results.json and the studies' own results.json alone, with
// the single-study report's tables and figures (markdown.ts, figures.ts) applied to views of the studies' runs.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { writeFileAtomic } from '../io/atomic';
import { makeDirectory } from '../io/mkdir';
import { terminalSafe } from '../io/paths';
import type { Experiment } from '../experiments/spec';
import { checkPartStudy, type ReproduceResults } from '../experiments/reproduce-record';
import { reportedModel } from '../experiments/architecture';
import { SECTION5_FIGURES, section5Arms, type PartName } from '../experiments/reproduce-plan';
import type { Analysis } from '../experiments/representations';
import type { StudyResults } from '../experiments/results';
import { checkReproductionShape, checkStudyParts } from '../experiments/results-schema';
import { TransfusionError } from '../errors';
import { scoreFindings } from '../experiments/scorecard';
import { exampleImages } from './examples';
import { studyFigures, type Figure } from './figures';
import { renderHtml, type PageFigure } from './html';
import { dataUri, drawFigures, filterFigures, pngSize, writeReport } from './write';
import { convergence, pct, provenanceLine, table1, table2 } from './markdown';
import { representationSection } from './representations';


/** A single-study renderer's lines without its own "## " heading (the report gives each section its own). */
const body = (lines: string[]) => (lines[0]?.startsWith('## ') ? lines.slice(lines[1] === '' ? 2 : 1) : lines);

/** A study's results seen as one experiment over some of its runs (and another study's): what figures.ts draws from. */
function view(base: StudyResults, experiment: Experiment, runs: StudyResults['runs'], representations?: StudyResults['representations']): StudyResults {
  const models = [...new Set(runs.map((r) => r.model))];
  return { ...base, spec: { ...base.spec, experiment }, runs, models: base.models.filter((m) => models.includes(m.name)), representations };
}

/** Pretraining that is no better than chance (top-1 below twice 1/classes) is named, never silently used. */
function pretrainingWarnings(r: StudyResults): string[] {
  return r.pretraining
    .filter((p) => p.classes && p.top1 !== null && p.top1 < 2 / p.classes)
    .map((p) => `**Chance-level pretraining:** ${p.model} reached top-1 ${pct(p.top1)}% on ${p.classes} classes (chance ${pct(1 / p.classes!)}%); its transfer arm starts from weights that learned little.`);
}

interface Section {
  heading: string;
  lines: string[];
  figures: Figure[];
}

function sections(record: ReproduceResults, parts: Map<PartName, StudyResults>): Section[] {
  const out: Section[] = [];
  const retina = parts.get('retina');
  const s5 = parts.get('section5');
  const missing = (what: string) => [`_Not run: ${what}._`, ''];
  const figuresOf = (v: StudyResults | undefined, section: string) => (v ? studyFigures(v).map((f) => ({ ...f, section })) : []);
  const tableSection = (heading: string, r: StudyResults | undefined, lines: (r: StudyResults) => string[], what: string) =>
    out.push({ heading, lines: r ? [...pretrainingWarnings(r).flatMap((w) => [w, '']), ...body(lines(r))] : missing(what), figures: figuresOf(r, heading.split(':')[0]) });
  tableSection(`Table 1: random initialisation against transfer (${record.request.data ? 'your data' : 'RETINA-like task'})`, retina && view(retina, 'table1', retina.runs), table1, 'the retina study');
  tableSection('Table 2: AUC per pathology on the chest task', parts.get('chexpert'), table2, record.request.data ? 'the chest task (your data replaces the embedded tasks)' : 'the chest study');
  tableSection('Table 3: little training data', parts.get('small-data'), table1, 'the small-data study');
  const analysisSection = (analysis: Analysis, heading: string) => {
    const a = record.analyses[analysis];
    const lines = a ? body(representationSection(a)) : missing(`the ${analysis} analysis`);
    const v = a && retina ? view(retina, analysis, retina.runs, a) : undefined;
    // Beyond the paper's three headings share their start: each keeps its figures under its own whole heading.
    out.push({ heading, lines, figures: analysis === 'filters' ? [] : figuresOf(v, heading.startsWith('Beyond') ? heading : heading.split(':')[0]) });
  };
  analysisSection('similarity', 'Figure 2: CCA of the top two stages, pretrained-init against random-init models');
  analysisSection('layers', 'Figure 3: per-stage CCA of each trained model with its own initialisation');
  analysisSection('init-vs-final', 'Figure 4: similarity at initialisation against after training');
  analysisSection('filters', 'Figure 5: conv1 filters before and after training');
  const headings: Record<keyof typeof SECTION5_FIGURES, string> = {
    meanvar: 'Figure 6: convergence of random, transfer and Mean Var',
    transfusion: 'Figure 7: steps to the threshold against the depth transfused',
    hybrids: 'Figure 8: Slim and Gabor conv1 against transfer and random',
  };
  for (const experiment of Object.keys(SECTION5_FIGURES) as (keyof typeof SECTION5_FIGURES)[]) {
    const models = retina ? [...new Set(retina.runs.map((r) => r.model))] : [];
    const arms = section5Arms(experiment, models);
    const armModels = [...new Set(arms.map((a) => a.model))];
    const runs = [
      ...(retina?.runs ?? []).filter((r) => armModels.includes(r.model) && (r.init === 'random' || r.init === 'transfer')),
      ...(s5?.runs ?? []).filter((r) => arms.some((a) => a.model === reportedModel(r.model, r.init) && a.init === r.init)),
    ];
    const v = retina && runs.length ? view(retina, experiment, runs) : undefined;
    out.push({ heading: headings[experiment], lines: v ? body(convergence(v)) : missing(`${SECTION5_FIGURES[experiment]}'s models are not among this reproduction's`), figures: figuresOf(v, SECTION5_FIGURES[experiment]) });
  }
  // After the paper's own sections: what its follow-ups asked of the same runs.
  analysisSection('interpolation', 'Beyond the paper: the loss barrier between trained models (Neyshabur et al. 2020)');
  analysisSection('criticality', 'Beyond the paper: which stages matter (re-initialisation and re-randomisation)');
  analysisSection('knn', 'Beyond the paper: k-NN AUC from each stage\'s features (Matsoukas et al. 2022)');
  const checkpointHeading = 'Beyond the paper: transfer from pretraining checkpoints (Neyshabur et al. 2020)';
  const checkpoints = parts.get('checkpoints');
  const ckModels = [...new Set((checkpoints?.runs ?? []).map((r) => r.model))];
  const ckRuns = [...(retina?.runs ?? []).filter((r) => ckModels.includes(r.model) && (r.init === 'random' || r.init === 'transfer')), ...(checkpoints?.runs ?? [])];
  const ck = retina && checkpoints && ckRuns.length ? view(retina, 'checkpoints', ckRuns) : undefined;
  out.push({ heading: checkpointHeading, lines: ck ? body(convergence(ck)) : missing('the checkpoints study (ResNet-50 and CBR-Small only)'), figures: figuresOf(ck, checkpointHeading) });
  return out;
}

function scorecardLines(record: ReproduceResults): string[] {
  const lines = ['## Findings scorecard', '', '| # | Where | The paper\'s finding | Paper | Ours (mean ± SE over seeds) | Verdict |', '|---|---|---|---|---|---|'];
  record.scorecard.forEach((f, i) => lines.push(`| ${i + 1} | ${f.where} | ${f.claim} | ${f.paper} | ${f.ours} | **${f.verdict}** |`));
  lines.push('', 'Each verdict comes from a rule written in the code (src/experiments/scorecard.ts) and the README before any run:', '');
  record.scorecard.forEach((f, i) => lines.push(`- ${i + 1}. ${f.rule}`));
  lines.push('');
  return lines;
}

/**
 * report.md of a reproduction.
 * @returns The Markdown text.
 * @throws ERR_BAD_DATA when the record or a study's results do not have the shape this library writes;
 *   ERR_INVALID_ARG when parts is not a Map of the plan's studies.
 */
export function renderPaperReport(record: ReproduceResults, parts: Map<PartName, StudyResults>, figure1?: { file: string; caption: string }): string {
  checkPaperInputs('renderPaperReport()', record, parts);
  return paperMarkdown(record, parts, figure1, sections(record, parts));
}

/** A record and its studies as the library's callers pass them: the record's shape, each study's, and that each is its part's. */
function checkPaperInputs(fn: string, record: ReproduceResults, parts: Map<PartName, StudyResults>): void {
  checkReproductionShape(record, `${fn}: record`);
  checkStudyParts(fn, parts);
  for (const [name, results] of parts) checkPartStudy(`${fn}: parts.get(${JSON.stringify(name)})`, name, results, record.request);
}

/** report.md from sections already built (writePaperReport draws their figures too: built once for both). */
function paperMarkdown(record: ReproduceResults, parts: Map<PartName, StudyResults>, figure1: { file: string; caption: string } | undefined, drawn: Section[]): string {
  const r = record.request;
  const retina = parts.get('retina');
  const seconds = record.parts.reduce((s, p) => s + (p.seconds ?? 0), 0);
  const span = record.finishedAt ? (Date.parse(record.finishedAt) - Date.parse(record.startedAt)) / 1000 : NaN;
  const wall = span >= 0 ? span : undefined;  // a record finished before it started (edited by hand) gives none
  const lines = [
    `# Transfusion, reproduced: preset \`${r.preset}\``,
    '',
    `The whole paper (Raghu et al., NeurIPS 2019) on ${r.data ? `your data at \`${r.data.path}\`` : 'the embedded RETINA-like and chest tasks'}: ` +
      `${retina ? retina.models.map((m) => `${m.displayName} (${m.imageSize} px)`).join(', ') : 'no models yet'}; seeds ${retina?.spec.seeds.join(', ') ?? 'n/a'}. ` +
      `${record.parts.map((p) => `\`${p.name}/\` (${p.serves}): ${parts.get(p.name)?.runs.length ?? 0} runs`).join('; ')}. ` +
      `Training ${(seconds / 60).toFixed(1)} min of run time${wall !== undefined ? `, ${(wall / 60).toFixed(1)} min wall time from start to report` : ''}.`,
    '',
  ];
  if (record.shard)
    lines.push(`_Shard ${record.shard.index}/${record.shard.count} of the reproduction: every study's every ${record.shard.count}th run from run ${record.shard.index + 1}, so each table holds part of the seeds' runs. Merge the shards with \`transfusion-native reproduce --merge DIRS --out DIR\` for the whole reproduction._`, '');
  else if (!record.finishedAt || record.parts.some((p) => !p.finished)) {
    // An unfinished reproduction (interrupted, or reported while it runs): its scorecard scores what has run so far.
    const done = record.parts.filter((p) => p.finished).map((p) => `\`${p.name}/\``);
    lines.push(`_In progress: ${done.length} of ${record.parts.length} studies finished (${done.join(', ') || 'none'}); the scorecard scores what has run, and a row whose study has not run is "not shown"._`, '');
  }
  // Scored here from the finished studies (as reproduce() scores them), so a redrawn report reads this version's rules.
  lines.push(...scorecardLines({ ...record, scorecard: scoreFindings(new Map([...parts].filter(([name]) => record.parts.some((p) => p.name === name && p.finished))), record.analyses) }));
  lines.push('## Figure 1: example images', '');
  if (figure1) lines.push(`![Example images](${figure1.file})`, '', figure1.caption, '');
  else lines.push('_Not drawn._', '');
  for (const s of drawn) lines.push(`## ${s.heading}`, '', ...s.lines);
  lines.push('## Settings', '');
  for (const p of record.parts) {
    const st = parts.get(p.name);
    if (!st) continue;
    const t = st.spec.train, pre = st.spec.pretrain;
    lines.push(
      `- \`${p.name}/\` (${p.serves}): ${st.spec.why} ${st.task.trainSize} training and ${st.task.valSize} validation images; ` +
        `${t.steps} ${t.optimizer} steps of ${t.batchSize}, ${t.schedule.kind} lr ${t.schedule.lr}, validation every ${t.evalEvery || t.steps} steps; threshold ${pct(st.spec.threshold)}%; ` +
        `pretraining ${pre.steps} steps of ${pre.batchSize} on ${pre.trainSize} images of ${pre.classes} classes. Its own report: \`${p.name}/report.md\`.`,
    );
  }
  lines.push('', `LibTorch ${String(record.environment.torch)}, ${String(record.environment.threads)} thread(s), ${String(record.environment.platform)}.`, '');
  if (record.provenance) lines.push(provenanceLine(record.provenance), '');
  return terminalSafe(lines.join('\n'));  // the studies' text keeps no control character (see renderReport)
}

/**
 * Writes report.md, report.html and figures/ of a reproduction into outDir, and each study's own report where it
 * has none (a merged study's).
 * @returns The files written, and vega's warnings.
 * @throws As {@link renderPaperReport}, and ERR_IO when a file cannot be written.
 */
export async function writePaperReport(outDir: string, record: ReproduceResults, parts: Map<PartName, StudyResults>): Promise<{ files: string[]; warnings: string[] }> {
  if (typeof outDir !== 'string' || !outDir) throw new TransfusionError('ERR_INVALID_ARG', `Expected \`outDir\` of writePaperReport() to be a directory path but received ${typeof outDir}`);
  checkPaperInputs('writePaperReport()', record, parts);
  const files: string[] = [], warnings: string[] = [];
  // Each study's own report (report.md, runs.csv, curves.csv, figures) where it has none: a merged study's.
  for (const [name, results] of parts)
    if (!fs.existsSync(path.join(outDir, name, 'report.md'))) warnings.push(...(await writeReport(path.join(outDir, name), results)).warnings);
  const put = (relative: string, data: string | Uint8Array) => {
    writeFileAtomic(path.join(outDir, relative), data);
    files.push(path.join(outDir, relative));
  };
  makeDirectory(path.join(outDir, 'figures'), 'the report\'s figures directory');
  const retina = parts.get('retina');
  let figure1: { meta: { file: string; caption: string }; png: Buffer } | undefined;
  if (retina && retina.spec.task.source !== 'files') {
    const ex = await exampleImages({ size: 96, perRow: 8, taskSeed: retina.spec.task.seed, pretrainSeed: retina.spec.pretrain.seed, classes: retina.spec.pretrain.classes, chest: parts.has('chexpert') });
    const file = 'figures/figure-1-examples.png';
    put(file, ex.png);
    const caption =
      `Rows, top to bottom: ${ex.rows.map((row) => `${row.source} (${row.labels.join('; ')})`).join('. ')}. ` +
      'Drawn at 96 px by the generators and seeds the studies use (the models see them at their own input sizes); label "referable" is grade ≥ 2.';
    figure1 = { meta: { file, caption }, png: ex.png };
  }
  const drawn = sections(record, parts);
  const markdown = paperMarkdown(record, parts, figure1?.meta, drawn);
  put('report.md', markdown);
  const shown = await drawFigures(drawn.flatMap((x) => x.figures), put, warnings);
  // Figure 5's grids as the single-study report shows them (paths checked inside outDir), and Figure 1's examples.
  const filters = record.analyses.filters;
  const images = retina && filters ? filterFigures(outDir, view(retina, 'filters', retina.runs, filters)) : new Map<string, PageFigure>();
  if (figure1) images.set(figure1.meta.file, { id: 'figure-1', title: 'Figure 1: example images', caption: figure1.meta.caption, section: 'Figure 1', src: dataUri('image/png', figure1.png), ...pngSize(figure1.png) });
  put('report.html', renderHtml(markdown, shown, (src) => images.get(src)));
  return { files, warnings };
}

