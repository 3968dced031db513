// Study progress for the terminal: a bar redrawn in place on a TTY, plain lines otherwise (CI logs).
import type { StudyEvent } from '../experiments/study';

export function progressPrinter(stream: NodeJS.WriteStream, mode: 'bar' | 'lines' | 'quiet' | 'json'): (e: StudyEvent) => void {
  if (mode === 'quiet') return () => {};
  if (mode === 'json') return (e) => process.stdout.write(JSON.stringify(e) + '\n');
  let done = 0;
  let total = 0;
  let started = Date.now();
  let current = '';
  const bar = () => {
    const width = 24;
    const filled = total ? Math.round((width * done) / total) : 0;
    const elapsed = (Date.now() - started) / 1000;
    const eta = done > 0 ? ((elapsed / done) * (total - done)).toFixed(0) + 's' : '?';
    return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ETA ${eta}`;
  };
  const redraw = (tail: string) => {
    if (mode === 'bar') stream.write(`\r\x1b[2K${bar()} ${tail}`.slice(0, (stream.columns || 120) + 8));
  };
  const line = (text: string) => {
    if (mode === 'bar') stream.write('\r\x1b[2K');
    stream.write(text + '\n');
  };
  return (e) => {
    switch (e.type) {
      case 'study-start':
        total = e.total;
        started = Date.now();
        line(`study: ${e.total} training runs -> ${e.outDir}`);
        break;
      case 'data':
        line(`data: ${e.what} generated in ${e.seconds.toFixed(1)}s`);
        break;
      case 'pretrain-start':
        current = `pretraining ${e.model}`;
        if (e.from === 'cache') line(`pretrain: ${e.model}: cached weights found, pretraining skipped`);
        else if (e.from === 'file') line(`pretrain: ${e.model}: using your weights, pretraining skipped`);
        else redraw(current);
        break;
      case 'pretrain-end':
        if (!e.record.cached && e.record.source !== 'file')
          line(`pretrain: ${e.record.model}: top-1 ${(100 * (e.record.top1 ?? NaN)).toFixed(1)}%, top-5 ${(100 * (e.record.top5 ?? NaN)).toFixed(1)}% in ${e.record.wallSeconds.toFixed(1)}s`);
        break;
      case 'run-start':
        current = `${e.model} ${e.init} seed ${e.seed}`;
        redraw(current);
        break;
      case 'train':
        if (e.event.kind === 'step')
          redraw(`${current} | step ${e.event.step}/${e.event.steps} loss ${e.event.loss.toFixed(3)} | ${e.event.imagesPerSecond.toFixed(0)} img/s`);
        else if (e.event.auc !== undefined && e.event.auc !== null) redraw(`${current} | step ${e.event.step} AUC ${(100 * e.event.auc).toFixed(1)}`);
        break;
      case 'run-end':
        done = e.index;
        line(`run ${e.index}/${e.total}: ${e.record.model} ${e.record.init} seed ${e.record.seed}: AUC ${(100 * e.record.auc).toFixed(2)} (${e.record.wallSeconds.toFixed(1)}s, ${e.record.imagesPerSecond.toFixed(0)} img/s)`);
        redraw('');
        break;
      case 'analysis':
        line(`analysis: ${e.what}`);
        break;
      case 'study-end':
        line(`done in ${e.seconds.toFixed(0)}s: ${e.outDir}/results.json, ${e.outDir}/report.md`);
        break;
    }
  };
}
