// Study progress for people and machines. On a terminal: two bars redrawn in place at the bottom, one for the study
// (runs done / total, ETA) and one for the run in progress (step, loss, AUC, images/s; the first of those in flight
// when several run at once), with log lines scrolling above them. Elsewhere (CI logs, files): plain lines, one per event worth keeping. `json`: one JSON event per line on
// stdout. `quiet`: nothing.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { StudyEvent } from '../experiments/results';
import { terminalSafe } from '../io/paths';

export type ProgressMode = 'bar' | 'lines' | 'quiet' | 'json';

/**
 * Prints a finished run directory's report.md on stdout, then its paths on stderr: last, where a terminal leaves them
 * in view (printed before the report, they scrolled away).
 */
export function printReport(outDir: string): void {
  process.stdout.write(terminalSafe(fs.readFileSync(path.join(outDir, 'report.md'), 'utf8')));
  const html = path.join(outDir, 'report.html');
  process.stderr.write(`\nreport: ${path.join(outDir, 'report.md')}${fs.existsSync(html) ? `, ${html}` : ''}; results: ${path.join(outDir, 'results.json')}\n`);
}

/** The mode for a stream: bars on a terminal, lines otherwise, unless the user asked for json or quiet. */
export function progressMode(stream: { isTTY?: boolean }, flags: { json?: boolean; quiet?: boolean }): ProgressMode {
  return flags.json ? 'json' : flags.quiet ? 'quiet' : stream.isTTY ? 'bar' : 'lines';
}

interface Sink {
  write(text: string): unknown;
  columns?: number;
}

function seconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const t = Math.round(s);
  if (t < 90) return `${t}s`;
  if (t < 5400) return `${Math.floor(t / 60)}m ${t % 60}s`;
  return `${Math.floor(t / 3600)}h ${Math.round((t % 3600) / 60)}m`;
}
const pct = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : (100 * x).toFixed(1));

function gauge(fraction: number, width = 20): string {
  const filled = Math.max(0, Math.min(width, Math.round(width * fraction)));
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

let activeBars: (() => void) | undefined;

/** Clears the bars the last bar-mode progressPrinter drew, and stops it drawing them again: a message written next (Ctrl-C's
 * "stopping", "interrupted ... Resume with") starts on a clean line instead of over the bar (issue 31). */
export function stopProgressBars(): void {
  activeBars?.();
  activeBars = undefined;
}

export function progressPrinter(stream: Sink, mode: ProgressMode, out: Sink = process.stdout, now: () => number = Date.now): (e: StudyEvent) => void {
  if (mode === 'quiet') return () => {};
  if (mode === 'json') return (e) => out.write(JSON.stringify(e) + '\n');
  const study = { done: 0, total: 0, started: now() };
  // The runs (and pretrainings) in progress, by index (pretraining: by model); `first` is the step each started from (a
  // checkpoint's, when resumed). Several are in flight when a study runs them at once.
  type Run = { label: string; step: number; first: number; steps: number; loss?: number; auc?: number | null; ips?: number; started: number };
  const inFlight = new Map<string, Run>();
  const current = (): Run | undefined => inFlight.values().next().value;
  let drawn = false;
  let closed = false;  // after study-end the bars are gone for good
  let html = true;  // whether the last report event wrote report.html
  let lastDraw = 0;

  const bars = (): string[] => {
    const elapsed = (now() - study.started) / 1000;
    // The study's ETA counts the runs in progress by their fractions done.
    const progress = study.done + [...inFlight.values()].reduce((sum, r) => sum + (r.steps ? r.step / r.steps : 0), 0);
    const run = current();
    const others = inFlight.size > 1 ? ` (+${inFlight.size - 1} more)` : '';
    const eta = progress > 0 ? seconds((elapsed / progress) * (study.total - progress)) : '?';
    const lines = [`study ${gauge(study.total ? study.done / study.total : 0)} ${study.done}/${study.total} runs, ${seconds(elapsed)} elapsed, ETA ${eta}`];
    if (!run) lines.push('run   (none in progress)');
    else {
      const runEta = run.step > run.first ? seconds((((now() - run.started) / 1000) / (run.step - run.first)) * (run.steps - run.step)) : '?';
      lines.push(
        `run   ${gauge(run.steps ? run.step / run.steps : 0)} ${run.label}${others} | step ${run.step}/${run.steps}` +
          (run.loss !== undefined ? ` loss ${run.loss.toFixed(3)}` : '') +
          (run.auc !== undefined ? ` AUC ${pct(run.auc)}` : '') +
          (run.ips !== undefined ? ` | ${run.ips.toFixed(0)} img/s` : '') +
          ` | ETA ${runEta}`,
      );
    }
    const width = stream.columns || 120;
    return lines.map((l) => (l.length > width - 1 ? l.slice(0, width - 2) + '…' : l));
  };
  const clear = () => {
    if (!drawn) return;
    stream.write('\r\x1b[1A\x1b[J');  // from the end of the second bar: up to the first, then clear below
    drawn = false;
  };
  if (mode === 'bar')
    activeBars = () => {
      clear();
      closed = true;
    };
  const draw = (force: boolean) => {
    if (mode !== 'bar' || closed || (!force && now() - lastDraw < 100)) return;
    clear();
    stream.write(bars().join('\n'));  // two lines, the cursor left at the end of the second
    drawn = true;
    lastDraw = now();
  };
  const line = (text: string) => {
    clear();
    stream.write(text + '\n');
    if (mode === 'bar') draw(true);
  };

  return (e) => {
    switch (e.kind) {
      case 'study-start':
        study.total = e.total;
        study.started = now();
        line(`study: ${e.total} training runs -> ${e.outDir}`);
        break;
      case 'data':
        line(`data: ${e.what} ready in ${e.seconds.toFixed(1)}s`);
        break;
      case 'eval-batch': {
        const timings = Object.entries(e.microsecondsPerImage).map(([b, us]) => `${b}: ${us.toFixed(0)}`).join(', ');
        line(`eval batch: ${e.model} at ${e.size} px: ${e.batch} images a pass${e.measuredNow ? ` (measured now, us per image: ${timings})` : timings ? ' (as measured before on this machine)' : ''}`);
        break;
      }
      case 'pretrain-start':
        if (e.from === 'cache') line(`pretrain: ${e.model}: cached weights found, pretraining skipped`);
        else if (e.from === 'file') line(`pretrain: ${e.model}: using your weights, pretraining skipped`);
        else {
          line(`pretrain: ${e.model}: pretraining on the natural-image source`);
          inFlight.set(`pretrain ${e.model}`, { label: `pretraining ${e.model}`, step: 0, first: 0, steps: 0, started: now() });
        }
        break;
      case 'pretrain-end':
        if (!e.record.cached && e.record.source !== 'file')
          line(`pretrain: ${e.record.model}: top-1 ${pct(e.record.top1)}%, top-5 ${pct(e.record.top5)}% in ${e.record.wallSeconds.toFixed(1)}s`);
        inFlight.delete(`pretrain ${e.record.model}`);
        break;
      case 'run-start': {
        const run = { label: `${e.model} ${e.init} seed ${e.seed}`, step: 0, first: 0, steps: 0, started: now() };
        inFlight.set(`run ${e.index}`, run);
        if (mode === 'lines') line(`run ${e.index}/${e.total}: ${run.label}: started`);
        draw(true);
        break;
      }
      case 'train': {
        const t = e.event;
        const run = inFlight.get(e.phase === 'pretrain' ? `pretrain ${e.model}` : `run ${e.index}`);
        if (!run) break;
        if (t.kind === 'resume') {
          run.started = now();  // time the steps that remain
          run.step = run.first = t.step;
          line(`run ${e.index}: continuing from its checkpoint at step ${t.step}`);
        } else if (t.kind === 'step') {
          Object.assign(run, { step: t.step, steps: t.steps, loss: t.loss, ips: t.imagesPerSecond });
          draw(false);
        } else if (t.kind === 'eval') {
          run.auc = t.auc ?? (t.top1 !== undefined ? t.top1 : run.auc);
          if (mode === 'lines') line(`  ${run.label}: step ${t.step}${t.auc !== undefined ? ` AUC ${pct(t.auc)}` : ''}${t.top1 !== undefined ? ` top-1 ${pct(t.top1)}` : ''} loss ${t.loss?.toFixed(3) ?? 'n/a'}`);
          else draw(true);
        }
        break;
      }
      case 'run-end':
        study.done += 1;
        inFlight.delete(`run ${e.index}`);
        line(
          `run ${e.index}/${e.total}: ${e.record.model} ${e.record.init} seed ${e.record.seed}: AUC ${(100 * e.record.auc).toFixed(2)} ` +
            `(${e.record.wallSeconds.toFixed(1)}s, ${e.record.imagesPerSecond.toFixed(0)} img/s${e.record.resumedFrom ? `, resumed at step ${e.record.resumedFrom}` : ''})`,
        );
        draw(true);
        break;
      case 'analysis':
        line(`analysis: ${e.what}`);
        break;
      case 'report':
        for (const w of e.warnings) line(`report: ${w}`);
        html = e.files.some((f) => f.endsWith('report.html'));
        break;
      case 'study-end':
        closed = true;
        // report.html is named only when it was written (a full disk while drawing leaves results.json and report.md).
        line(`done in ${seconds(e.seconds)}: ${e.outDir}/results.json, ${e.outDir}/report.md${html ? `, ${e.outDir}/report.html` : ' (report.html not written: see above)'}`);
        break;
    }
  };
}
