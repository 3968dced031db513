// The initialisations of the paper's Section 5, as small typed descriptions (policy), applied to a fresh model by the
// native core (mechanism). `source` is the pretrained weight file the initialisation draws on. ("Schedule" means a
// learning-rate schedule only: src/schedules/.)
import { checkInteger, checkOneOf, invalidArg } from '../errors';
import { populationStats } from '../metrics';
import { readTensor, type Model } from '../models';
import { checkHandle, checkOptions } from '../options';
import { GABOR_KEYS, gaborBank, type GaborSpec } from './gabor';

/**
 * The old name of {@link Initialisation}.
 * @deprecated Use Initialisation ("schedule" now means a learning-rate schedule only).
 */
export type InitSchedule = Initialisation;

/** How a fresh model is initialised for a training run (the paper's Sections 3 and 5), told apart by `kind`. */
export type Initialisation =
  /** The library's random initialisation (Kaiming-normal convs, unit BatchNorm, PyTorch-default linear head). */
  | { kind: 'random' }
  /** All pretrained weights, a new head. */
  | { kind: 'transfer' }
  /** All pretrained weights as they were after `step` steps of pretraining (0: before any), a new head: the
   * `checkpoints` experiment's arms. The file is `<base>-step<step>.pt` beside the final weights `<base>.pt`, as
   * pretraining with `weightSteps` writes it. */
  | { kind: 'checkpoint'; step: number }
  /** Pretrained weights for the stages up to and including `upTo`; random above (the head included). */
  | { kind: 'transfusion'; upTo: string }
  /** Each conv/linear weight and bias drawn i.i.d. from N(mean, var) of the pretrained tensor. */
  | { kind: 'meanvar'; batchNorm?: 'meanvar' | 'default' }
  /** Each conv/linear (and BatchNorm affine) tensor: the pretrained tensor's values at permuted positions, so its
   * scale and whole distribution are kept and its arrangement (the features) lost: Mean Var's "values" control. */
  | { kind: 'shuffle'; batchNorm?: 'meanvar' | 'default' }
  /** conv1 set to synthetic Gabor filters, the rest random; scaled to the pretrained conv1 where there is one. */
  | { kind: 'gabor'; gabor?: Partial<GaborSpec> }
  /** ResNet-50 pretrained up to layer2, halved random layer3/layer4 (the model is resnet50-slim). */
  | { kind: 'slim' };

export const INIT_KINDS = ['random', 'transfer', 'checkpoint', 'transfusion', 'meanvar', 'shuffle', 'gabor', 'slim'] as const;

/** The fields each kind of Initialisation takes, typed against it: a kind or a field added to the union must be here. */
const INIT_FIELDS: { [K in Initialisation['kind']]: readonly Exclude<keyof Extract<Initialisation, { kind: K }>, 'kind'>[] } = {
  random: [], transfer: [], checkpoint: ['step'], transfusion: ['upTo'], meanvar: ['batchNorm'], shuffle: ['batchNorm'], gabor: ['gabor'], slim: [],
};

/** An Initialisation given to `fn`: its kind known, and no field the kind does not take. */
export function checkInitialisation(fn: string, value: unknown): Initialisation {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidArg('initialisation', `an Initialisation ({ kind: ${INIT_KINDS.map((k) => `"${k}"`).join(' | ')}, ... }) for ${fn}`, value);
  const kind = checkOneOf('initialisation.kind', (value as { kind?: unknown }).kind, INIT_KINDS);
  checkOptions(`${fn}'s "${kind}" initialisation`, value, ['kind', ...INIT_FIELDS[kind]], 'initialisation');
  if (kind === 'gabor') checkOptions(`${fn}'s \`gabor\``, (value as { gabor?: unknown }).gabor, GABOR_KEYS, 'gabor');
  if (kind === 'checkpoint') checkInteger('initialisation.step', (value as { step?: unknown }).step, 0);
  return value as Initialisation;
}

/**
 * The name of an initialisation as results and the CLI write it: its kind, or "transfusion:<stage>".
 * @param s - The initialisation.
 * @returns e.g. "random", "transfusion:layer2".
 */
export function initLabel(s: Initialisation): string {
  return s.kind === 'transfusion' ? `transfusion:${s.upTo}` : s.kind === 'checkpoint' ? `checkpoint:${s.step}` : s.kind;
}

/**
 * Parses "random", "transfer", "meanvar", "shuffle", "gabor", "slim", "transfusion:<stage>" or "checkpoint:<step>".
 * @param text - The initialisation's name.
 * @returns The {@link Initialisation} it names (with its defaults).
 * @throws ERR_INVALID_ARG for an unknown kind, or "transfusion" without a stage.
 */
export function parseInit(text: string): Initialisation {
  const [kind, upTo] = text.split(':');
  checkOneOf('init', kind, INIT_KINDS);
  if (kind === 'transfusion') {
    if (!upTo) throw invalidArg('init', '"transfusion:<stage>", e.g. "transfusion:layer2"', text);
    return { kind, upTo };
  }
  if (kind === 'checkpoint') {
    if (!/^\d+$/.test(upTo ?? '')) throw invalidArg('init', '"checkpoint:<pretraining step>", e.g. "checkpoint:100"', text);
    return { kind, step: Number(upTo) };
  }
  return { kind } as Initialisation;
}

/** Whether the initialisation cannot run without pretrained weights (Gabor only uses them for scale when present). */
export function needsPretrained(s: Initialisation): boolean {
  return s.kind === 'transfer' || s.kind === 'checkpoint' || s.kind === 'transfusion' || s.kind === 'meanvar' || s.kind === 'shuffle' || s.kind === 'slim';
}

/** The pretraining checkpoint after `step` steps beside final weights `<base>.pt`: `<base>-step<step>.pt`. */
export const checkpointFile = (weights: string, step: number) => `${weights.replace(/\.pt$/, '')}-step${step}.pt`;

/** What {@link applyInit} did. */
export interface InitReport {
  /** The initialisation's label ({@link initLabel}). */
  init: string;
  /** Tensors taken from the pretrained file (transfer, transfusion, slim). */
  loaded?: number;
  /** Tensors drawn from the source's statistics (Mean Var). */
  drawn?: number;
  /** Model tensors left as initialised or drawn afresh (the head, stages above a transfusion point). */
  fresh?: string[];
  /** Gabor: the filters conv1 received, and the scale they were given. */
  gabor?: { filters: number; mean: number; std: number; scaledToPretrained: boolean };
  /** Whose weights the initialisation drew on. */
  from?: string;
}

/**
 * Initialises a fresh model as `initialisation` says, drawing on pretrained weights where it needs them: random
 * leaves the model as created; transfer and transfusion load the pretrained stages; Mean Var draws from their
 * statistics; Gabor replaces conv1.
 * @param model - A model fresh from {@link createModel}, changed in place.
 * @param initialisation - What to do (see {@link Initialisation}).
 * @param source - The pretrained weight file and the name of the model it belongs to; required by transfer,
 *   transfusion, meanvar and slim, optional for gabor (then used for scale), unused by random.
 * @param seed - Seed of the new head (transfer) or of the Mean Var draw.
 * @param opts - `signal` cancels the weight file's reading.
 * @returns What was loaded, drawn or kept fresh, and from whom.
 * @throws ERR_INVALID_ARG for a bad model, initialisation or option, or a missing `source`; ERR_IO, ERR_BAD_WEIGHTS and
 *   ERR_WEIGHTS_MISMATCH from the weight file; ERR_BUSY; ABORT_ERR when `signal` aborts.
 */
export async function applyInit(
  model: Model,
  initialisation: Initialisation,
  source: { weights: string; model: string } | undefined,
  seed: number,
  opts: { signal?: AbortSignal } = {},
): Promise<InitReport> {
  checkHandle('applyInit()', 'model', model, 'Model', 'createModel()');
  checkInitialisation('applyInit()', initialisation);
  if (source !== undefined) checkOptions("applyInit()'s `source`", source, ['weights', 'model'], 'source');
  checkOptions('applyInit()', opts, ['signal'], 'opts');
  const init = initLabel(initialisation);
  const need = () => {
    if (!source) throw invalidArg('source', `pretrained weights for the "${init}" initialisation`, source);
    return source;
  };
  switch (initialisation.kind) {
    case 'random':
      return { init };
    case 'transfer':
    case 'checkpoint': {
      const file = initialisation.kind === 'checkpoint' ? checkpointFile(need().weights, initialisation.step) : need().weights;
      const r = await model.loadWeights(file, { head: 'replace', seed }, opts);
      return { init, loaded: r.loaded.length, fresh: r.reinitialised, from: source!.model };
    }
    case 'transfusion':
    case 'slim': {
      const upTo = initialisation.kind === 'slim' ? 'layer2' : initialisation.upTo;
      const r = await model.loadWeights(need().weights, { upTo }, opts);
      return { init, loaded: r.loaded.length, fresh: r.kept, from: source!.model };
    }
    case 'meanvar':
    case 'shuffle': {
      const draw = initialisation.kind === 'shuffle' ? 'shuffle' : 'normal';
      const r = await model.meanVarInit(need().weights, { seed, batchNorm: initialisation.batchNorm, draw }, opts);
      return { init, drawn: r.drawn.length, fresh: r.kept, from: source!.model };
    }
    case 'gabor': {
      const key = model.info().inputConv;
      const current = model.getParameter(key);
      const scale = source ? populationStats((await readTensor(source.weights, key, opts)).data) : undefined;
      const bank = gaborBank(initialisation.gabor ?? {}, current.shape, scale);
      model.setParameter(key, { data: bank.data, shape: bank.shape });
      const { mean, std } = populationStats(bank.data);
      return { init, gabor: { filters: bank.filters.length, mean, std, scaledToPretrained: Boolean(scale) }, ...(source ? { from: source.model } : {}) };
    }
  }
}
