// Synthetic Gabor filters for conv1 (the paper's Figure 8 hybrid). A pure function: settings in, a filter bank out.
//   g(x, y) = exp(-(x'^2 + gamma^2 y'^2) / (2 sigma^2)) * cos(2 pi x' / lambda + psi)
//   x' = x cos(theta) + y sin(theta),  y' = -x sin(theta) + y cos(theta)
// x runs along columns and y along rows, both centred on the kernel. The paper's parameter ranges are not public: every
// one is a setting here.
import { checkInteger, invalidArg } from '../errors';
import { populationStats } from '../metrics';
import { checkOptions, optionKeys } from '../options';

/** The settings of a synthetic Gabor filter bank ({@link gaborBank}); {@link DEFAULT_GABOR} holds the defaults. */
export interface GaborSpec {
  /** Orientations theta, evenly spaced over [0, pi). */
  orientations: number;
  /** Carrier wavelengths lambda, in pixels. */
  wavelengths: number[];
  /** Phases psi, in radians (0: even, symmetric filters; pi/2: odd, edge-like). */
  phases: number[];
  /** Envelope sigma as a multiple of lambda (0.56 gives a bandwidth of about one octave). */
  sigmaPerWavelength: number;
  /** Spatial aspect ratio gamma of the envelope. */
  gamma: number;
  /** Colour weighting per input channel (R, G, B), one entry per colour variant: grey, red-green, blue-yellow. */
  colours: number[][];
  /** Remove each filter's mean (its response to flat colour). */
  zeroMean: boolean;
}

/**
 * The default Gabor settings: 8 orientations, wavelengths 2.5, 3.5 and 5 pixels, phases 0 and pi/2, sigma 0.56
 * wavelengths, aspect ratio 0.5, grey, red-green and blue-yellow variants, zero mean. The paper's ranges are not public.
 */
export const DEFAULT_GABOR: GaborSpec = {
  orientations: 8,
  wavelengths: [2.5, 3.5, 5],
  phases: [0, Math.PI / 2],
  sigmaPerWavelength: 0.56,
  gamma: 0.5,
  colours: [[1, 1, 1], [1, -1, 0], [0.5, 0.5, -1]],
  zeroMean: true,
};

/** One filter of a bank: the settings its kernel was drawn with. */
export interface GaborFilter {
  /** Orientation in radians, [0, pi). */
  theta: number;
  /** Carrier wavelength lambda in pixels. */
  wavelength: number;
  /** Phase psi in radians. */
  phase: number;
  /** Envelope sigma in pixels. */
  sigma: number;
  /** Weighting per input channel (R, G, B). */
  colour: number[];
}

/** A Gabor filter bank, ready for a conv weight ({@link Model.setParameter}). */
export interface GaborBank {
  /** The weights, row-major, float32. */
  data: Float32Array;
  /** (out, in, kh, kw) */
  shape: number[];
  /** The settings of each of the `out` filters, in order. */
  filters: GaborFilter[];
}

/**
 * The spatial Gabor kernel (kh x kw, row-major) of one filter.
 * @param f - The filter's theta (radians), wavelength and sigma (pixels), phase (radians) and aspect ratio gamma.
 * @param kh - Kernel height in pixels.
 * @param kw - Kernel width in pixels.
 * @returns kh x kw values, row-major, unnormalised.
 */
export function gaborKernel(f: Omit<GaborFilter, 'colour'> & { gamma: number }, kh: number, kw: number): Float64Array {
  const out = new Float64Array(kh * kw);
  const c = Math.cos(f.theta), s = Math.sin(f.theta);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++) {
      const x = j - (kw - 1) / 2, y = i - (kh - 1) / 2;
      const xr = x * c + y * s, yr = -x * s + y * c;
      out[i * kw + j] =
        Math.exp(-(xr * xr + f.gamma * f.gamma * yr * yr) / (2 * f.sigma * f.sigma)) * Math.cos((2 * Math.PI * xr) / f.wavelength + f.phase);
    }
  return out;
}

export const GABOR_KEYS = optionKeys<GaborSpec>()(['orientations', 'wavelengths', 'phases', 'sigmaPerWavelength', 'gamma', 'colours', 'zeroMean']);

/**
 * A bank of shape (out, in, kh, kw). Filters cycle through colours x wavelengths x phases x orientations (orientation
 * fastest). The bank is scaled to `scale` (mean and standard deviation over all its values): pass the pretrained
 * conv1's statistics where there is one; otherwise it gets Kaiming fan-out scale, sqrt(2 / (out * kh * kw)), mean 0.
 * @param settings - Any of {@link GaborSpec}'s fields; the rest from {@link DEFAULT_GABOR}.
 * @param shape - The conv weight's shape (out, in, kh, kw); `colours` needs `in` entries each.
 * @param scale - The mean and standard deviation to give the bank (default: Kaiming fan-out, mean 0).
 * @returns The weights, their shape and each filter's settings.
 * @throws ERR_INVALID_ARG for a shape that is not 4-D, or a bad or unknown setting.
 */
export function gaborBank(settings: Partial<GaborSpec>, shape: number[], scale?: { mean: number; std: number }): GaborBank {
  checkOptions('gaborBank()', settings, GABOR_KEYS, 'settings');
  if (!Array.isArray(shape)) throw invalidArg('shape', 'a conv weight shape (out, in, kh, kw) for gaborBank()', shape);
  const spec = { ...DEFAULT_GABOR, ...settings };
  if (shape.length !== 4) throw invalidArg('shape', 'a conv weight shape (out, in, kh, kw)', shape);
  const [out, inChannels, kh, kw] = shape;
  checkInteger('orientations', spec.orientations, 1);
  if (!spec.wavelengths.length || spec.wavelengths.some((l) => !(l > 0))) throw invalidArg('wavelengths', 'positive numbers', spec.wavelengths);
  if (!spec.phases.length) throw invalidArg('phases', 'a non-empty list', spec.phases);
  if (!spec.colours.length || spec.colours.some((c) => c.length !== inChannels))
    throw invalidArg('colours', `weightings of ${inChannels} input channels each`, spec.colours);

  const combos: GaborFilter[] = [];
  for (const colour of spec.colours)
    for (const wavelength of spec.wavelengths)
      for (const phase of spec.phases)
        for (let o = 0; o < spec.orientations; o++)
          combos.push({ theta: (Math.PI * o) / spec.orientations, wavelength, phase, sigma: spec.sigmaPerWavelength * wavelength, colour });
  const filters = Array.from({ length: out }, (_, i) => combos[i % combos.length]);

  const data = new Float64Array(out * inChannels * kh * kw);
  filters.forEach((f, o) => {
    const k = gaborKernel({ ...f, gamma: spec.gamma }, kh, kw);
    if (spec.zeroMean) {
      const m = k.reduce((a, b) => a + b, 0) / k.length;
      k.forEach((v, i) => (k[i] = v - m));
    }
    const norm = Math.sqrt(k.reduce((a, b) => a + b * b, 0)) || 1;
    for (let c = 0; c < inChannels; c++)
      for (let p = 0; p < kh * kw; p++) data[((o * inChannels + c) * kh * kw) + p] = (f.colour[c] * k[p]) / norm;
  });

  const { mean, std } = populationStats(data);
  const target = scale ?? { mean: 0, std: Math.sqrt(2 / (out * kh * kw)) };
  const result = new Float32Array(data.length);
  data.forEach((v, i) => (result[i] = ((v - mean) / (std || 1)) * target.std + target.mean));
  return { data: result, shape: [...shape], filters };
}
