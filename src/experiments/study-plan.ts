// A study's plan, made before anything runs: its arms (model x initialisation, each model the architecture its
// initialisation needs) and every training run of this shard in the study's order, each with its place in the whole
// study (`slot`: which shard takes it and where its record stands in results.json), its input size and the model whose
// pretrained weights it starts from.
import type { ModelInfo } from '../models';
import { initLabel, needsPretrained, parseInit, type Initialisation } from '../init/init';
import { architectureFor, inputSizeFor, transferSource } from './architecture';
import type { Shard } from './results';
import { armsOf, type StudySpec } from './spec';

/** One arm: a model and the initialisation it starts from. */
export interface Arm {
  model: string;
  init: Initialisation;
}

/** One training run of a study, as its place in the study's order gives it. */
export interface RunTask {
  arm: Arm;
  info: ModelInfo;
  size: number;
  /** The model whose pretrained weights the run starts from (undefined: none). */
  source?: string;
  init: string;
  seed: number;
  /** Its place in the whole study, 1-based. */
  slot: number;
  /** Its place in this shard's runs, 1-based (events' `index`). */
  index: number;
}

/** The study's arms, each model resolved to the architecture its initialisation needs (Slim's halved ResNet-50). */
export function studyArms(spec: StudySpec): Arm[] {
  return armsOf(spec).map((a) => {
    const init = parseInit(a.init);
    return { model: architectureFor(a.model.toLowerCase(), init), init };
  });
}

const runKey = (model: string, init: string, seed: number) => JSON.stringify([model, init, seed]);

/**
 * Every training run of the shard (all of them without one), in the study's order: arms in turn, each over the seeds.
 * A shard takes every count-th run from its index, so models and initialisations spread over the shards.
 * @returns The runs, and the slot of any run of the study (Infinity for a record of another study), for ordering.
 */
export function planRuns(spec: StudySpec, arms: Arm[], infoOf: (model: string) => ModelInfo, shard: Shard | undefined): { todo: RunTask[]; slotOf: (r: { model: string; init: string; seed: number }) => number } {
  const inShard = (slot: number) => !shard || (slot - 1) % shard.count === shard.index;
  // Gabor conv1 is scaled to the pretrained conv1 when the study has pretrained weights anyway.
  const pretrainedAnyway = arms.some((a) => needsPretrained(a.init)) || Object.keys(spec.weights ?? {}).length > 0;
  const slots = new Map<string, number>();
  const todo: RunTask[] = [];
  let slot = 0;
  for (const arm of arms) {
    const info = infoOf(arm.model);
    const plan = {
      arm,
      info,
      size: inputSizeFor(info, spec.task.imageSize, spec.imageSizes),
      source: needsPretrained(arm.init) || (arm.init.kind === 'gabor' && pretrainedAnyway) ? transferSource(arm.model).model : undefined,
      init: initLabel(arm.init),
    };
    for (const seed of spec.seeds) {
      slot += 1;
      slots.set(runKey(arm.model, plan.init, seed), slot);
      if (inShard(slot)) todo.push({ ...plan, seed, slot, index: todo.length + 1 });
    }
  }
  return { todo, slotOf: (r) => slots.get(runKey(r.model, r.init, r.seed)) ?? Infinity };
}
