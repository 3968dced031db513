import { checkResultsShape } from '../../src/experiments/results-schema';
import { renderReport } from '../../src/report/markdown';
import { renderHtml } from '../../src/report/html';
import { chexpert, table1 } from '../helpers/results';

// AUPRC, the AUC's bootstrap interval and kappa in results.json's schema and in report.md / report.html, beside the
// tables whose form other tests hold fixed.
describe('the metrics beside AUC in reports', () => {
  const withExtras = () => {
    const r = table1();
    r.runs = r.runs.map((run, i) => ({ ...run, auprc: 0.5 + i / 100, aucCi: [run.auc - 0.05, Math.min(1, run.auc + 0.05)] as [number, number] }));
    return r;
  };

  it('results.json: the new fields pass the schema, and a malformed interval is named', () => {
    const r = withExtras();
    expect(() => checkResultsShape(JSON.parse(JSON.stringify(r)), 'results.json')).not.toThrow();
    expect(() => checkResultsShape(JSON.parse(JSON.stringify(table1())), 'results.json')).not.toThrow();  // written before them
    const bad = JSON.parse(JSON.stringify(r));
    bad.runs[0].aucCi = [0.5];
    expect(() => checkResultsShape(bad, 'results.json')).toThrow('field runs[0].aucCi must NOT have fewer than 2 items');
    bad.runs[0].aucCi = [0.5, 0.6];
    bad.runs[0].kappa = 'high';
    expect(() => checkResultsShape(bad, 'results.json')).toThrow('field runs[0].kappa must be number,null');
  });

  it('report.md: Table 1 unchanged, an AUPRC table per arm, the runs with AUC [95% CI] and AUPRC', () => {
    const r = withExtras();
    const md = renderReport(r);
    expect(md).toContain('| Model | Random init AUC | Transfer AUC | Parameters (paper) | Parameters (numel) | Pretraining top-1 / top-5 |');
    expect(md).toContain('## AUPRC beside AUC per arm');
    expect(md).toContain('| Model | Init | AUC | AUPRC | Mean 95% CI of AUC |');
    expect(md).toContain('| Model | Init | Seed | Image px | AUC [95% CI] | AUPRC | Final loss | Steps | Seconds | Images/s |');
    const run = r.runs[0];
    expect(md).toContain(`| ${run.model} | ${run.init} | ${run.seed} | ${run.imageSize} | ${(100 * run.auc).toFixed(2)} [${(100 * run.aucCi![0]!).toFixed(2)}, ${(100 * run.aucCi![1]!).toFixed(2)}] | 50.00 |`);
    const html = renderHtml(md, [], () => undefined);
    expect(html).toContain('<th>AUC [95% CI]</th><th>AUPRC</th>');
    expect(html).toContain('<h2 id="section-auprc-beside-auc-per-arm">AUPRC beside AUC per arm</h2>');
  });

  it('report.md: results written before the new metrics keep the old runs table and no AUPRC table', () => {
    const md = renderReport(chexpert());
    expect(md).toContain('| Model | Init | Seed | Image px | AUC | Final loss | Steps | Seconds | Images/s |');
    expect(md).not.toContain('AUPRC');
  });

  it('report.md: a kappa column where runs carry kappa', () => {
    const r = table1();
    r.runs = r.runs.map((run) => ({ ...run, kappa: 0.4321 }));
    const md = renderReport(r);
    expect(md).toContain('| Model | Init | Seed | Image px | AUC | Kappa | Final loss | Steps | Seconds | Images/s |');
    expect(md).toContain('| 0.432 |');
  });
});
