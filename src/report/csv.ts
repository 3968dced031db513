// results.json as the tables researchers open in pandas or R: runs.csv (one row per training run) and curves.csv (one
// row per evaluation point). Pure: results in, RFC 4180 text out (comma-separated, a header row, fields quoted where
// they hold a comma, quote or line break, "\n" line ends, empty for a missing value).
import type { RunRecord, StudyResults } from '../experiments/results';

type Cell = string | number | boolean | null | undefined;

function field(v: Cell): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function table(header: readonly string[], rows: readonly Cell[][]): string {
  return [header, ...rows].map((row) => row.map(field).join(',')).join('\n') + '\n';
}

/** A column name for a per-finding AUC: "auc_" and the finding, lower-case, spaces as underscores. */
export function findingColumn(label: string): string {
  return `auc_${label.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '')}`;
}

/** runs.csv: model, init, seed, final AUC (and per finding for multi-label tasks), steps to threshold, time, then AUPRC, the AUC's 95% interval and kappa (empty where a run lacks them). */
export function runsCsv(r: StudyResults): string {
  const findings = r.runs.some((run) => run.aucs) ? r.task.labels : [];
  const header = [
    'model', 'init', 'seed', 'auc', ...findings.map(findingColumn), 'steps_to_threshold', 'threshold', 'steps', 'final_loss',
    'wall_seconds', 'images_per_second', 'image_size', 'resumed_from', 'auprc', 'auc_ci_low', 'auc_ci_high', 'kappa',
  ];
  const rows = r.runs.map((run: RunRecord) => [
    run.model, run.init, run.seed, run.auc, ...findings.map((f) => run.aucs?.[f]), run.stepsToThreshold, r.spec.threshold, run.steps,
    run.finalLoss, run.wallSeconds, run.imagesPerSecond, run.imageSize, run.resumedFrom, run.auprc, run.aucCi?.[0], run.aucCi?.[1], run.kappa,
  ]);
  return table(header, rows);
}

/** curves.csv: one row per evaluation point of every run (validation AUC by step; empty where it was undefined). */
export function curvesCsv(r: StudyResults): string {
  const rows = r.runs.flatMap((run) => run.curve.map((p) => [run.model, run.init, run.seed, p.step, p.auc]));
  return table(['model', 'init', 'seed', 'step', 'auc'], rows);
}
