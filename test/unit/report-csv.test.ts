import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { curvesCsv, findingColumn, runsCsv } from '../../src/report/csv';
import { chexpert, table1 } from '../helpers/results';
import { PYTHON } from '../helpers/python';
import { tempDir } from '../helpers/tmp';

// runs.csv and curves.csv as a researcher reads them: Python's csv module (pandas too where it is installed) reads
// them back and every value agrees with results.json.
const READ_BACK = `
import csv, json, sys
out = {}
for name in sys.argv[1:]:
    with open(name, newline='') as f:
        out[name] = list(csv.DictReader(f))
try:
    import pandas
    out['pandas_rows'] = {name: len(pandas.read_csv(name)) for name in sys.argv[1:]}
except ImportError:
    pass
print(json.dumps(out))
`;

describe('runs.csv and curves.csv', () => {
  const dir = tempDir('csv');

  for (const [name, make] of [['table1', table1], ['chexpert', chexpert]] as const) {
    it(`read back by Python's csv module agree with results.json (${name})`, () => {
      const r = make();
      const runs = path.join(dir, `${name}-runs.csv`), curves = path.join(dir, `${name}-curves.csv`);
      fs.writeFileSync(runs, runsCsv(r));
      fs.writeFileSync(curves, curvesCsv(r));
      const p = spawnSync(PYTHON, ['-c', READ_BACK, runs, curves], { encoding: 'utf8' });
      expect(p.stderr).toBe('');
      const read = JSON.parse(p.stdout) as Record<string, Record<string, string>[]> & { pandas_rows?: Record<string, number> };
      const num = (s: string) => (s === '' ? null : Number(s));

      expect(read[runs]).toHaveLength(r.runs.length);
      read[runs].forEach((row, i) => {
        const run = r.runs[i];
        expect([row.model, row.init, Number(row.seed)]).toEqual([run.model, run.init, run.seed]);
        expect(Number(row.auc)).toBe(run.auc);
        expect(num(row.steps_to_threshold)).toBe(run.stepsToThreshold);
        expect(Number(row.threshold)).toBe(r.spec.threshold);
        expect([Number(row.steps), Number(row.final_loss), Number(row.wall_seconds), Number(row.images_per_second)]).toEqual([run.steps, run.finalLoss, run.wallSeconds, run.imagesPerSecond]);
        for (const label of run.aucs ? r.task.labels : []) expect(num(row[findingColumn(label)])).toBe(run.aucs![label]);
      });
      if (name === 'chexpert') expect(Object.keys(read[runs][0])).toContain('auc_pleural_effusion');

      const points = r.runs.flatMap((run) => run.curve.map((c) => ({ ...c, run })));
      expect(read[curves]).toHaveLength(points.length);
      read[curves].forEach((row, i) => {
        expect([row.model, row.init, Number(row.seed), Number(row.step)]).toEqual([points[i].run.model, points[i].run.init, points[i].run.seed, points[i].step]);
        expect(num(row.auc)).toBe(points[i].auc);
      });
      if (read.pandas_rows) expect(read.pandas_rows).toEqual({ [runs]: r.runs.length, [curves]: points.length });
    });
  }

  it('has auprc, auc_ci_low, auc_ci_high and kappa columns, empty where a run lacks them', () => {
    const r = table1();
    r.runs[0] = { ...r.runs[0], auprc: 0.625, aucCi: [0.71, 0.93], kappa: 0.5 };
    r.runs[1] = { ...r.runs[1], auprc: null, aucCi: [null, 0.9] };
    const file = path.join(dir, 'extras-runs.csv');
    fs.writeFileSync(file, runsCsv(r));
    const p = spawnSync(PYTHON, ['-c', READ_BACK, file], { encoding: 'utf8' });
    expect(p.stderr).toBe('');
    const rows = (JSON.parse(p.stdout) as Record<string, Record<string, string>[]>)[file];
    expect(Object.keys(rows[0]).slice(-4)).toEqual(['auprc', 'auc_ci_low', 'auc_ci_high', 'kappa']);
    expect([rows[0].auprc, rows[0].auc_ci_low, rows[0].auc_ci_high, rows[0].kappa].map(Number)).toEqual([0.625, 0.71, 0.93, 0.5]);
    expect([rows[1].auprc, rows[1].auc_ci_low, rows[1].auc_ci_high, rows[1].kappa]).toEqual(['', '', '0.9', '']);
    expect([rows[2].auprc, rows[2].auc_ci_low, rows[2].auc_ci_high, rows[2].kappa]).toEqual(['', '', '', '']);
  });

  it('quotes what needs quoting (RFC 4180)', () => {
    const r = table1();
    r.runs[0] = { ...r.runs[0], init: 'transfusion:"a,b"\nc' };
    const text = runsCsv(r);
    expect(text.split('\n')[1]).toMatch(/^cbr-small,"transfusion:""a,b""$/);
  });
});
