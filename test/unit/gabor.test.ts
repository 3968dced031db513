import { gaborBank, gaborKernel } from '../../src/init/gabor';
import { parseInit } from '../../src/init/init';
import { stepsToAuc } from '../../src/metrics';

/** The dominant spatial frequency (cycles/pixel) of a kernel: the peak of its zero-padded DFT magnitude. */
function peakFrequency(k: Float64Array, kh: number, kw: number, n = 96): { fx: number; fy: number } {
  let best = -1, fx = 0, fy = 0;
  for (let v = -n / 2; v < n / 2; v++)
    for (let u = 0; u < n / 2; u++) {
      let re = 0, im = 0;
      for (let i = 0; i < kh; i++)
        for (let j = 0; j < kw; j++) {
          const a = (-2 * Math.PI * (u * j + v * i)) / n;
          re += k[i * kw + j] * Math.cos(a);
          im += k[i * kw + j] * Math.sin(a);
        }
      const m = re * re + im * im;
      if (m > best) [best, fx, fy] = [m, u / n, v / n];
    }
  return { fx, fy };
}

describe('Gabor filters', () => {
  it.each([0, 1, 2, 3, 4, 5, 6, 7].map((o) => (o * Math.PI) / 8))('have the orientation and frequency asked for (theta %f)', (theta) => {
    const wavelength = 4;
    const k = gaborKernel({ theta, wavelength, phase: 0, sigma: 0.56 * 2 * wavelength, gamma: 0.5 }, 15, 15);
    const { fx, fy } = peakFrequency(k, 15, 15);
    const orientation = (Math.atan2(fy, fx) + Math.PI) % Math.PI;
    const angleError = Math.min(Math.abs(orientation - theta), Math.PI - Math.abs(orientation - theta));
    expect(angleError).toBeLessThan((6 * Math.PI) / 180);
    expect(Math.abs(Math.hypot(fx, fy) - 1 / wavelength)).toBeLessThan(0.1 / wavelength);
  });

  it('builds a 7x7 bank cycling orientations, wavelengths, phases and colours, at the scale asked for', () => {
    const bank = gaborBank({ orientations: 4, wavelengths: [3, 5], phases: [0], colours: [[1, 1, 1], [1, -1, 0]] }, [64, 3, 7, 7], { mean: 0.01, std: 0.2 });
    expect(bank.shape).toEqual([64, 3, 7, 7]);
    expect(bank.filters.slice(0, 5).map((f) => [f.theta, f.wavelength, f.colour])).toEqual([
      [0, 3, [1, 1, 1]], [Math.PI / 4, 3, [1, 1, 1]], [Math.PI / 2, 3, [1, 1, 1]], [(3 * Math.PI) / 4, 3, [1, 1, 1]], [0, 5, [1, 1, 1]],
    ]);
    expect(bank.filters[8].colour).toEqual([1, -1, 0]);
    expect(bank.filters[16]).toEqual(bank.filters[0]);  // 16 combinations, then the cycle repeats
    const n = bank.data.length;
    const mean = bank.data.reduce((a, b) => a + b, 0) / n;
    const std = Math.sqrt(bank.data.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    expect(mean).toBeCloseTo(0.01, 6);
    expect(std).toBeCloseTo(0.2, 5);
    // The red-green filter (index 8) has opposite signs on R and G, nothing on B.
    const plane = 49, base = 8 * 3 * plane;
    for (let p = 0; p < plane; p++) expect(bank.data[base + p] - mean).toBeCloseTo(-(bank.data[base + plane + p] - mean), 5);
  });

  it('defaults to Kaiming fan-out scale without a pretrained conv1', () => {
    const bank = gaborBank({}, [32, 3, 5, 5]);
    const n = bank.data.length;
    const std = Math.sqrt(bank.data.reduce((a, b) => a + b * b, 0) / n);
    expect(std).toBeCloseTo(Math.sqrt(2 / (32 * 25)), 5);
  });

  it('names bad settings', () => {
    expect(() => gaborBank({ colours: [[1, 1]] }, [8, 3, 7, 7])).toThrow('Expected `colours` to be weightings of 3 input channels each');
    expect(() => gaborBank({ wavelengths: [0] }, [8, 3, 7, 7])).toThrow('Expected `wavelengths` to be positive numbers');
  });
});

describe('initialisation names and convergence', () => {
  it('parses schedules', () => {
    expect(parseInit('transfusion:layer2')).toEqual({ kind: 'transfusion', upTo: 'layer2' });
    expect(parseInit('meanvar')).toEqual({ kind: 'meanvar' });
    expect(() => parseInit('transfusion')).toThrow('Expected `init` to be "transfusion:<stage>"');
    expect(() => parseInit('imagenet')).toThrow('Expected `init` to be one of "random", "transfer", "checkpoint", "transfusion", "meanvar", "shuffle", "gabor", "slim"');
  });

  it('finds the first evaluated step at the threshold, or none', () => {
    const curve = [{ step: 5, auc: 0.7 }, { step: 10, auc: 0.92 }, { step: 15, auc: 0.89 }, { step: 20, auc: 0.95 }];
    expect(stepsToAuc(curve, 0.91)).toBe(10);
    expect(stepsToAuc(curve, 0.96)).toBeNull();
    expect(stepsToAuc([{ step: 1, auc: null }, { step: 2, auc: 0.91 }], 0.91)).toBe(2);
  });
});
