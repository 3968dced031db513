// Sharded studies made whole again: the run directories of `run --shard i/N` merge into one, refusing shards of
// different studies, missing or repeated shards, and unfinished ones. The merge of all shards holds the runs the
// unsharded study would, in its order.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { TransfusionError } from '../errors';
import { writeFileAtomic } from '../io/atomic';
import { makeDirectory } from '../io/mkdir';
import { initLabel, parseInit } from '../init/init';
import { architectureFor } from './architecture';
import { armsOf } from './spec';
import { readResults, type StudyResults } from './results';

const fail = (message: string) => new TransfusionError('ERR_INVALID_ARG', message);

/** Merges the shard directories into outDir's results.json (and its snapshots); returns the merged results. */
export function mergeShards(dirs: string[], outDir: string): StudyResults {
  if (dirs.length === 0) throw fail('Expected the run directories of a study\'s shards to merge');
  const shards = dirs.map((dir) => ({ dir, results: readResults(dir) }));
  const first = shards[0];
  const count = first.results.shard?.count;
  const seen = new Map<number, string>();
  for (const { dir, results } of shards) {
    if (!results.shard) throw fail(`${dir} holds a whole study, not a shard (run --shard i/N writes shards)`);
    if (JSON.stringify(results.spec) !== JSON.stringify(first.results.spec))
      throw fail(`${dir} is a shard of another study than ${first.dir} (their specs differ)`);
    if (results.shard.count !== count) throw fail(`${dir} is shard ${results.shard.index}/${results.shard.count} but ${first.dir} is one of ${count}`);
    if (seen.has(results.shard.index)) throw fail(`${dir} and ${seen.get(results.shard.index)} are both shard ${results.shard.index}/${count}`);
    if (!results.finishedAt) throw fail(`${dir} (shard ${results.shard.index}/${count}) has not finished: resume it with run --resume ${dir}`);
    seen.set(results.shard.index, dir);
  }
  const missing = Array.from({ length: count! }, (_, i) => i).filter((i) => !seen.has(i));
  if (missing.length) throw fail(`Shard(s) ${missing.map((i) => `${i}/${count}`).join(', ')} of the study are missing`);

  // The runs in the order the unsharded study runs them: arms, then seeds.
  const spec = first.results.spec;
  const order = armsOf(spec).flatMap((a) => {
    const init = parseInit(a.init);
    return spec.seeds.map((seed) => `${architectureFor(a.model.toLowerCase(), init)} ${initLabel(init)} ${seed}`);
  });
  const key = (r: { model: string; init: string; seed: number }) => `${r.model} ${r.init} ${r.seed}`;
  const runs = shards.flatMap((s) => s.results.runs).sort((a, b) => order.indexOf(key(a)) - order.indexOf(key(b)));
  const pretraining = [...new Map(shards.flatMap((s) => s.results.pretraining).map((p) => [p.model, p] as const)).values()];
  const { shard: _shard, ...base } = first.results;
  const merged: StudyResults = {
    ...base,
    startedAt: shards.map((s) => s.results.startedAt).sort()[0],
    finishedAt: shards.map((s) => s.results.finishedAt!).sort().at(-1),
    pretraining,
    runs,
    mergedFrom: dirs.map((d) => path.resolve(d)),
  };
  makeDirectory(outDir, 'the merged run directory');
  // Section 4's weight snapshots travel with the runs: `run --resume` on the merged directory then runs the analysis.
  for (const { dir } of shards) {
    const snapshots = path.join(dir, 'snapshots');
    if (fs.existsSync(snapshots)) fs.cpSync(snapshots, path.join(outDir, 'snapshots'), { recursive: true });
  }
  writeFileAtomic(path.join(outDir, 'results.json'), JSON.stringify(merged, null, 2));
  return merged;
}
