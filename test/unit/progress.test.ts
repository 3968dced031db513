import { progressMode, progressPrinter, stopProgressBars } from '../../src/cli/progress';
import type { RunRecord, StudyEvent } from '../../src/experiments/results';

const record = (over: Partial<RunRecord> = {}): RunRecord => ({
  model: 'cbr-small', init: 'transfer', seed: 1, auc: 0.9123, stepsToThreshold: 20, steps: 40, finalLoss: 0.3, wallSeconds: 12.5,
  imagesPerSecond: 410, curve: [{ step: 40, auc: 0.9123 }], imageSize: 40, ...over,
});

function capture(mode: 'bar' | 'lines' | 'json', columns = 200) {
  let text = '';
  let stdout = '';
  let clock = 0;
  const sink = { write: (s: string) => (text += s), columns };
  const out = { write: (s: string) => (stdout += s) };
  const print = progressPrinter(sink, mode, out, () => clock);
  return { print, text: () => text, stdout: () => stdout, tick: (ms: number) => (clock += ms) };
}

const study: StudyEvent[] = [
  { kind: 'study-start', total: 4, outDir: '/runs/x' },
  { kind: 'run-end', index: 1, total: 4, record: record({ init: 'random', seed: 0 }) },
  { kind: 'run-start', index: 2, total: 4, model: 'cbr-small', init: 'transfer', seed: 1 },
];
const step = (n: number): StudyEvent => ({ kind: 'train', index: 2, phase: 'run', model: 'cbr-small', event: { kind: 'step', step: n, steps: 40, loss: 0.4567, lr: 1e-3, imagesPerSecond: 512.3 } });

describe('progress output', () => {
  it('names report.html at the end only when it was written (issue 28: a full disk while drawing)', () => {
    const ok = capture('lines');
    ok.print({ kind: 'report', files: ['/runs/x/report.md', '/runs/x/report.html'], warnings: [] });
    ok.print({ kind: 'study-end', outDir: '/runs/x', seconds: 3 });
    expect(ok.text()).toContain('/runs/x/results.json, /runs/x/report.md, /runs/x/report.html\n');
    const full = capture('lines');
    full.print({ kind: 'report', files: [], warnings: ['report.html and figures/ were not written: ENOSPC'] });
    full.print({ kind: 'study-end', outDir: '/runs/x', seconds: 3 });
    expect(full.text()).toContain('report: report.html and figures/ were not written: ENOSPC');
    expect(full.text()).toContain('/runs/x/results.json, /runs/x/report.md (report.html not written: see above)\n');
  });

  it('picks bars on a terminal, lines elsewhere, and honours --json and --quiet', () => {
    expect(progressMode({ isTTY: true }, {})).toBe('bar');
    expect(progressMode({ isTTY: false }, {})).toBe('lines');
    expect(progressMode({ isTTY: true }, { json: true })).toBe('json');
    expect(progressMode({ isTTY: true }, { quiet: true })).toBe('quiet');
  });

  it('draws a study bar (runs, ETA) and a run bar (step, loss, AUC, images/s) in place on a terminal', () => {
    const c = capture('bar');
    study.forEach((e) => c.print(e));
    c.tick(10_000);
    c.print(step(10));
    c.print({ kind: 'train', index: 2, phase: 'run', model: 'cbr-small', event: { kind: 'eval', step: 10, loss: 0.5, auc: 0.8771 } });
    const screen = c.text();
    const last = screen.slice(screen.lastIndexOf('\x1b[J') + 3).split('\n');
    expect(last).toHaveLength(2);
    // 1 run done and a quarter of the next in 10 s: 2.75 runs to go at 8 s each.
    expect(last[0]).toBe('study [#####---------------] 1/4 runs, 10s elapsed, ETA 22s');
    expect(last[1]).toBe('run   [#####---------------] cbr-small transfer seed 1 | step 10/40 loss 0.457 AUC 87.7 | 512 img/s | ETA 30s');
    expect(screen).toContain('run 1/4: cbr-small random seed 0: AUC 91.23 (12.5s, 410 img/s)\n');
  });

  it('follows several runs in flight at once: the first on the run bar, each fraction in the study\'s ETA, runs done counted as they end', () => {
    const c = capture('bar');
    const at = (index: number, n: number): StudyEvent => ({ ...step(n), index } as StudyEvent);
    c.print({ kind: 'study-start', total: 4, outDir: '/runs/x' });
    c.print({ kind: 'run-start', index: 1, total: 4, model: 'cbr-small', init: 'random', seed: 0 });
    c.print({ kind: 'run-start', index: 2, total: 4, model: 'cbr-small', init: 'random', seed: 1 });
    c.tick(9_800);
    c.print(at(1, 20));
    c.tick(200);  // past the redraw interval
    c.print(at(2, 20));
    const bars = () => c.text().slice(c.text().lastIndexOf('\x1b[J') + 3).split('\n');
    // Two halves done in 10 s: three runs to go at 10 s each.
    expect(bars()[0]).toBe('study [--------------------] 0/4 runs, 10s elapsed, ETA 30s');
    expect(bars()[1]).toMatch(/^run   \[#{10}-{10}\] cbr-small random seed 0 \(\+1 more\) \| step 20\/40/);
    c.print({ kind: 'run-end', index: 2, total: 4, record: record({ init: 'random', seed: 1 }) });  // the second ends first
    expect(bars()[0]).toMatch(/^study \[#{5}-{15}\] 1\/4 runs/);
    expect(bars()[1]).toMatch(/^run   \[#{10}-{10}\] cbr-small random seed 0 \| step 20\/40/);
  });

  it('clears its bars for a message and draws them no more once stopped (Ctrl-C\'s lines start on a clean line, issue 31)', () => {
    const c = capture('bar');
    study.forEach((e) => c.print(e));
    c.tick(1000);
    c.print(step(10));
    const before = c.text().length;
    stopProgressBars();
    expect(c.text().slice(before)).toBe('\r\x1b[1A\x1b[J');  // up from the second bar to the first, everything below cleared
    c.tick(1000);
    c.print(step(11));
    c.print({ kind: 'train', index: 2, phase: 'run', model: 'cbr-small', event: { kind: 'eval', step: 11, loss: 0.5, auc: 0.8 } });
    expect(c.text().slice(before + 8)).not.toContain('study [');
    stopProgressBars();  // a second call does nothing
    expect(c.text().length).toBe(before + 8);
  });

  it('keeps bars within the terminal width', () => {
    const c = capture('bar', 40);
    study.forEach((e) => c.print(e));
    c.print(step(3));
    const screen = c.text();
    for (const l of screen.slice(screen.lastIndexOf('\x1b[J') + 3).split('\n')) expect(l.length).toBeLessThanOrEqual(39);
  });

  it('writes plain lines without control codes when not on a terminal', () => {
    const c = capture('lines');
    study.forEach((e) => c.print(e));
    c.print(step(10));
    c.print({ kind: 'train', index: 2, phase: 'run', model: 'cbr-small', event: { kind: 'eval', step: 20, loss: 0.5, auc: 0.9 } });
    c.print({ kind: 'run-end', index: 2, total: 4, record: record({ resumedFrom: 30 }) });
    expect(c.text()).not.toContain('\x1b');
    expect(c.text().split('\n')).toEqual([
      'study: 4 training runs -> /runs/x',
      'run 1/4: cbr-small random seed 0: AUC 91.23 (12.5s, 410 img/s)',
      'run 2/4: cbr-small transfer seed 1: started',
      '  cbr-small transfer seed 1: step 20 AUC 90.0 loss 0.500',
      'run 2/4: cbr-small transfer seed 1: AUC 91.23 (12.5s, 410 img/s, resumed at step 30)',
      '',
    ]);
  });

  it('prints one JSON event per line on stdout with --json', () => {
    const c = capture('json');
    study.forEach((e) => c.print(e));
    expect(c.text()).toBe('');
    expect(c.stdout().trim().split('\n').map((l) => JSON.parse(l).kind)).toEqual(['study-start', 'run-end', 'run-start']);
  });
});
