// A tiny study on a folder of class sub-folders, through the command line as a user runs it (`run --data DIR --format
// folder --preset tiny --models cbr-tiny`), held to what every such study must show: exit 0 with nothing on stderr,
// every image kept, a finite training loss for every run.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const bin = path.resolve(__dirname, '../../bin/transfusion-native.js');

/** Runs the study into `out` (weights cached in `cacheDir`; more `flags` after the rest), checks it as above and returns its results.json. */
export function runTinyFolderStudy(data: string, out: string, cacheDir: string, images: number, flags: string[] = []) {
  const r = spawnSync(process.execPath, [bin, 'run', '--preset', 'tiny', '--models', 'cbr-tiny', '--seed', '0', '--data', data, '--format', 'folder',
    '--out', out, '--cache-dir', cacheDir, '--quiet', ...flags], { encoding: 'utf8', env: { ...process.env, TRANSFUSION_THREADS: '2' } });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
  expect(results.data.format).toBe('folder');
  expect(results.data.skipped).toEqual([]);
  expect(results.data.available.train + results.data.available.val).toBe(images);
  expect(results.runs.length).toBeGreaterThan(0);
  // A folder is a multiclass task: no AUC (null), a finite training loss.
  for (const run of results.runs) expect(Number.isFinite(run.finalLoss)).toBe(true);
  return results;
}
