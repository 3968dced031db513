#!/usr/bin/env node
// `node scripts/cycles.js [DIR]` (npm run check:cycles): the import cycles among the TypeScript files under DIR
// (default src/), type-only imports included, as madge --circular would list them. Prints each cycle and exits 1 if
// there is one; prints "no import cycles in N files" otherwise.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

function files(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

// The relative modules a file imports or re-exports (static `import ... from`, `export ... from`, `import('...')`).
function importsOf(file) {
  const text = fs.readFileSync(file, 'utf8');
  const out = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
    const spec = m[1] ?? m[2];
    const base = path.resolve(path.dirname(file), spec);
    const target = [`${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')].find((c) => fs.existsSync(c));
    if (target) out.push(target);
  }
  return out;
}

function cycles(root) {
  const all = files(root);
  const graph = new Map(all.map((f) => [f, importsOf(f).filter((t) => t.startsWith(root + path.sep))]));
  const found = [], state = new Map(), stack = [];
  const visit = (f) => {
    state.set(f, 'open');
    stack.push(f);
    for (const t of graph.get(f) ?? []) {
      if (state.get(t) === 'open') found.push(stack.slice(stack.indexOf(t)).concat(t));
      else if (!state.has(t)) visit(t);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of all) if (!state.has(f)) visit(f);
  return { count: all.length, found };
}

module.exports = { cycles };

if (require.main === module) {
  const root = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'src'));
  const { count, found } = cycles(root);
  for (const c of found) console.log('cycle: ' + c.map((f) => path.relative(process.cwd(), f)).join(' -> '));
  console.log(found.length ? `${found.length} import cycle(s) in ${count} files under ${path.relative(process.cwd(), root) || '.'}` : `no import cycles in ${count} files under ${path.relative(process.cwd(), root) || '.'}`);
  process.exit(found.length ? 1 : 0);
}
