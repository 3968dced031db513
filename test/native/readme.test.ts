import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { loadStudyConfig } from '../../src/experiments/config';
import { tempDir } from '../helpers/tmp';

// The README's code as a reader copies it: every TypeScript block type-checks against the package as a dependent
// imports it ('transfusion-native', strict, ESM), the study file example loads, and every command line it shows names
// a command and flags the CLI has.
const root = path.resolve(__dirname, '../..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const blocks = (lang: string) => [...readme.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
const bin = path.join(root, 'bin/transfusion-native.js');

describe('the README', () => {
  const dir = tempDir('readme');
  it('has TypeScript that compiles against the package, strict, as an ES module', () => {
    const ts = blocks('ts');
    expect(ts.length).toBeGreaterThan(0);
    ts.forEach((code, i) => {
      // Inside the package root, so 'transfusion-native' resolves to this package through its exports map.
      const file = path.join(root, `.readme-block-${process.pid}-${i}.mts`);
      fs.writeFileSync(file, code);
      try {
        const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', file], { encoding: 'utf8' });
        expect(tsc.stdout + tsc.stderr).toBe('');
        expect(tsc.status).toBe(0);
      } finally {
        fs.rmSync(file, { force: true });
      }
    });
  });

  it('shows a study file that loads', () => {
    const json = blocks('json');
    expect(json.length).toBeGreaterThan(0);
    json.forEach((text, i) => {
      const file = path.join(dir, `study-${i}.json`);
      fs.writeFileSync(file, text);
      expect(() => loadStudyConfig(file)).not.toThrow();
    });
  });

  it('names only commands and flags the CLI has', () => {
    const lines = [...readme.matchAll(/npx transfusion-native ([a-z][\w-]*)([^`\n|]*)/g)];
    expect(lines.length).toBeGreaterThan(10);
    const help = new Map<string, string>();
    for (const [, command, rest] of lines) {
      if (!help.has(command)) {
        const r = spawnSync(process.execPath, [bin, command, '--help'], { encoding: 'utf8' });
        expect({ command, status: r.status }).toEqual({ command, status: 0 });
        help.set(command, r.stdout);
      }
      // Flags before a `--` (what follows it goes to the launched command).
      for (const [flag] of rest.split(' -- ')[0].matchAll(/--[a-z][\w-]*/g))
        expect({ command, flag, known: help.get(command)!.includes(flag) }).toEqual({ command, flag, known: true });
    }
  });

  it('points only at files the published package holds', () => {
    const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
    expect(pack.status).toBe(0);
    const shipped = new Set((JSON.parse(pack.stdout)[0].files as { path: string }[]).map((f) => f.path));
    const named = [...readme.matchAll(/`((?:\.ci|bench|bin|bindings|fuzz|native|scripts|src|test)\/[\w./-]+|(?:README|CHANGELOG)\.md|LICENSE|CMakeLists\.txt)`/g)].map((m) => m[1]);
    expect(named.length).toBeGreaterThan(20);
    const missing = named.filter((p) => !shipped.has(p) && ![...shipped].some((f) => f.startsWith(p.endsWith('/') ? p : `${p}/`)));
    expect(missing).toEqual([]);
    expect(readme).not.toContain('../shared');
  });
});
