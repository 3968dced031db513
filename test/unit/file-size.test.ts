// Issue 15's rule for the house: no source file above 350 lines without a reason at its top (in its first five lines,
// a comment starting "Above 350 lines"), so a file that grows past the size a reader takes in is split or says why.
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const LIMIT = 350;

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return sources(rel);
    return /\.(ts|js|cc|h|py)$/.test(e.name) ? [rel] : [];
  });
}

describe('source file sizes', () => {
  it(`keeps every source file under ${LIMIT} lines or has it say why at its top`, () => {
    const files = ['src', 'bindings', 'native', 'scripts', 'bench', 'fuzz'].filter((d) => fs.existsSync(path.join(ROOT, d))).flatMap(sources);
    expect(files.length).toBeGreaterThan(100);
    const unexplained = files.filter((f) => {
      const lines = fs.readFileSync(path.join(ROOT, f), 'utf8').split('\n');
      const count = lines.length - (lines[lines.length - 1] === '' ? 1 : 0);
      return count > LIMIT && !lines.slice(0, 5).some((l) => /Above 350 lines/i.test(l));
    });
    expect(unexplained).toEqual([]);
  });
});
