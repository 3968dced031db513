// The similarity engine's CPU routes (issue 34): the Gram kernel chosen by measurement on this machine, and every
// route giving the same metrics.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { similarityBatch, type ActivationArray } from '../../src';

const entry = path.resolve(__dirname, '../../dist/src/index.js');

function structured(rows: number, cols: number, seed: number): ActivationArray {
  // A decaying spectrum, as layers' activations have: column j scaled by 1 / (1 + j / 8).
  let s = seed >>> 0;
  const next = () => ((s = (1664525 * s + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[i * cols + j] = next() / (1 + j / 8) + (j % 3 === 0 ? 0.5 * data[i * cols] : 0);
  return { data, shape: [rows, cols] };
}

// The same batch in a fresh process with `env`: its route, calibration and metrics.
function inChild(env: Record<string, string>) {
  const script = `
    const tn = require(${JSON.stringify(entry)});
    ${structured.toString()}
    const inputs = [structured(3000, 70, 1), structured(3000, 50, 2), structured(3000, 70, 3)];
    tn.similarityBatch(inputs, [[0, 1], [0, 2], [1, 2]], {}).then((rs) => {
      process.stdout.write(JSON.stringify(rs.map((r) => ({ route: r.route, kernels: r.work.kernels,
        metrics: [r.meanCca, r.svccaMean, r.pwcca, r.linearCka, r.debiasedLinearCka, r.procrustes, r.shapeMetric] }))));
    });`;
  const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as { route: string; kernels: Record<string, number>; metrics: number[] }[];
}

describe('the similarity engine\'s CPU routes', () => {
  it('times every Gram kernel this CPU runs and LibTorch\'s BLAS, and runs the fastest', async () => {
    const [r] = await similarityBatch([structured(2000, 40, 7), structured(2000, 30, 8)], [[0, 1]]);
    const { kernels } = r.work;
    expect(Object.keys(kernels)).toContain('blas');
    for (const name of Object.keys(kernels)) expect(name).toMatch(/^(avx512|avx2)(\/mc\d+)?$|^blas$/);
    Object.values(kernels).forEach((g) => expect(g).toBeGreaterThan(0));
    if (!process.env.TRANSFUSION_GRAM_KERNEL) {
      const fastest = Object.entries(kernels).sort((a, b) => b[1] - a[1])[0][0];
      expect(r.route).toBe(`gram/${fastest}`);
    }
  });

  it('gives the same metrics on every route: each kernel and the BLAS', () => {
    const chosen = inChild({});
    const names = Object.keys(chosen[0].kernels);
    if (process.arch === 'x64') expect(names.length).toBeGreaterThan(1);  // the BLAS and at least one kernel
    for (const name of names) {
      const other = inChild({ TRANSFUSION_GRAM_KERNEL: name });
      other.forEach((r, k) => {
        expect(r.route).toBe(`gram/${name}`);
        r.metrics.forEach((v, m) => expect(Math.abs(v - chosen[k].metrics[m])).toBeLessThan(1e-10));
      });
    }
  }, 120000);
});
