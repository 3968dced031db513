// The house has no import cycles (issue 15): scripts/cycles.js over src/, and the checker itself on a planted cycle.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { cycles } = require('../../scripts/cycles.js') as { cycles: (root: string) => { count: number; found: string[][] } };

describe('import cycles', () => {
  it('finds none among the sources', () => {
    const r = cycles(path.resolve(__dirname, '../../src'));
    expect(r.count).toBeGreaterThan(40);
    expect(r.found).toEqual([]);
  });

  it('finds a cycle through a type-only import and a re-export', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tn-cycles-'));
    try {
      fs.mkdirSync(path.join(dir, 'sub'));
      fs.writeFileSync(path.join(dir, 'a.ts'), "import type { B } from './sub/b';\nexport type A = B;\n");
      fs.writeFileSync(path.join(dir, 'sub', 'b.ts'), "export type B = number;\nexport { c } from '../c';\n");
      fs.writeFileSync(path.join(dir, 'c.ts'), "import type { A } from './a';\nexport const c = 1 as A;\n");
      const r = cycles(dir);
      expect(r.found.map((c) => c.map((f) => path.relative(dir, f)))).toEqual([['a.ts', path.join('sub', 'b.ts'), 'c.ts', 'a.ts']]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
