// A reproduction's record, DIR/results.json (the request, its studies, the analyses and the scorecard), and its
// studies as DIR/<part>/results.json: read, checked against their schemas and against each other.
import type { Provenance } from '../provenance';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { TransfusionError, invalidArg } from '../errors';
import { displayPath, readRegularFile } from '../io/paths';
import type { Shard } from './results';
import { readResults, type StudyResults } from './results';
import { checkReproductionShape } from './results-schema';
import type { Analysis, RepresentationResults } from './representations';
import { reproducePlan, type PartName, type ReproduceRequest } from './reproduce-plan';
import type { Finding } from './scorecard';

/** The record's file name in a reproduction's directory, and in each of its studies' folders. */
export const RECORD = 'results.json';

/** The `schema` of a reproduction's DIR/results.json. */
export const REPRODUCE_SCHEMA = 'transfusion-native/reproduce@1';

/** DIR/results.json of a reproduction. */
export interface ReproduceResults {
  schema: typeof REPRODUCE_SCHEMA;
  request: ReproduceRequest;
  startedAt: string;
  finishedAt?: string;
  environment: Record<string, unknown>;
  /** What produced the reproduction (absent in records written before 0.2.0); each study's results.json has its own. */
  provenance?: Provenance;
  /** The plan's studies, each in DIR/<name>/. */
  parts: { name: PartName; serves: string; finished: boolean; runs: number; seconds?: number }[];
  /** Section 4's analyses of the retina study's models. */
  analyses: Partial<Record<Analysis, RepresentationResults>>;
  /** The paper's findings, each with its verdict on these runs. */
  scorecard: Finding[];
  /** Shards of a reproduction hold runs only: their analyses, scorecard and report come after the merge. */
  shard?: Shard;
}

/**
 * Reads a reproduction's DIR/results.json.
 * @returns The record.
 * @throws ERR_INVALID_ARG when the directory holds none; ERR_BAD_DATA when it cannot be read or is not a reproduction's.
 */
export function readReproduction(outDir: string): ReproduceResults {
  if (typeof outDir !== 'string' || !outDir) throw invalidArg('outDir', 'a directory path', outDir);
  const file = path.join(outDir, RECORD);
  if (!fs.existsSync(file)) throw new TransfusionError('ERR_INVALID_ARG', `${displayPath(outDir)} holds no reproduction (no results.json)`);
  const doc = readJson(file) as ReproduceResults;
  if (doc?.schema !== REPRODUCE_SCHEMA)
    throw new TransfusionError('ERR_BAD_DATA', `${displayPath(file)} is not a reproduction's record (schema ${JSON.stringify(doc?.schema)}, expected ${REPRODUCE_SCHEMA}); a single study's directory is resumed with \`run --resume\``);
  checkReproductionShape(doc, file);
  return doc;
}

/**
 * What DIR/results.json is, read as every record is (a regular file, bounded): a reproduction's record, another
 * document (a study's results, a user's file), or nothing.
 * @throws ERR_BAD_DATA when it exists and cannot be read (a FIFO, a device, a link to one, not JSON).
 */
export function recordKind(outDir: string): 'reproduction' | 'other' | 'none' {
  const file = path.join(outDir, RECORD);
  if (!fs.existsSync(file)) return 'none';
  const doc = readJson(file) as { schema?: unknown } | null;
  return doc !== null && typeof doc === 'object' && doc.schema === REPRODUCE_SCHEMA ? 'reproduction' : 'other';
}

/** A record's JSON, read as every record is: a regular file, at most 256 MiB; ERR_BAD_DATA naming it otherwise. */
function readJson(file: string): unknown {
  try {
    return JSON.parse(readRegularFile(file, 'ERR_BAD_DATA', 256 << 20).toString('utf8'));
  } catch (err) {
    throw new TransfusionError('ERR_BAD_DATA', `${displayPath(file)} cannot be read: ${(err as Error).message}`);
  }
}

/**
 * The studies of a reproduction, by part, each checked to be that part's study (its spec's name, and the data the
 * request names): a study copied or linked into another part's folder would fill the wrong table.
 * @throws ERR_BAD_DATA naming the folder whose study is not its part's.
 */
export function readParts(outDir: string, record: ReproduceResults): Map<PartName, StudyResults> {
  const parts = new Map<PartName, StudyResults>();
  for (const p of record.parts) {
    const dir = path.join(outDir, p.name);
    checkNotLink(dir);
    if (!fs.existsSync(path.join(dir, RECORD))) continue;
    const results = readResults(dir);
    checkPartStudy(dir, p.name, results, record.request);
    parts.set(p.name, results);
  }
  return parts;
}

/**
 * Refuses a study that is not this part's: another part's, another preset's, a user's own, not on the request's
 * data, or of other models or seeds than the request's plan gives the part.
 */
export function checkPartStudy(dir: string, name: PartName, results: StudyResults, request: ReproduceRequest): void {
  const expected = `reproduce-${request.preset}-${name}`;
  const data = results.spec.task.data?.path;
  const planned = reproducePlan(request).find((p) => p.name === name)?.spec;
  const same = (field: 'models' | 'seeds') => JSON.stringify(results.spec[field]) === JSON.stringify(planned?.[field]);
  const wrong = results.spec.name !== expected ? `its study is ${JSON.stringify(results.spec.name)}, not ${JSON.stringify(expected)}`
    : (data ?? null) !== (request.data?.path ?? null) ? `its study reads ${data ? JSON.stringify(data) : 'the embedded task'}, not ${request.data ? JSON.stringify(request.data.path) : 'the embedded task'} as the request says`
    : !planned ? 'the request\'s plan has no such study'
    : !same('models') ? `its study's models are ${results.spec.models.join(', ')}, the request's plan gives ${planned.models.join(', ')}`
    : !same('seeds') ? `its study's seeds are ${results.spec.seeds.join(', ')}, the request's plan gives ${planned.seeds.join(', ')}`
    : undefined;
  if (wrong) throw new TransfusionError('ERR_BAD_DATA', `${displayPath(dir)} is not this reproduction's ${name} study: ${wrong}`);
}

/** A part's folder is the reproduction's own: a link (into another reproduction, say) is refused, never written through. */
export function checkNotLink(dir: string): void {
  let link = false;
  try {
    link = fs.lstatSync(dir).isSymbolicLink();
  } catch {
    return;  // absent: made when its study starts
  }
  if (link) throw new TransfusionError('ERR_BAD_DATA', `${displayPath(dir)} is a link: a reproduction's studies live in its own folders; replace the link with the study's folder`);
}
