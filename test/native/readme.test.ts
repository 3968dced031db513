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
/** The README's fenced blocks of one language ('' for plain ones), each as its text with a final newline. */
function blocks(lang: string): string[] {
  const found: string[] = [];
  let open: { lang: string; lines: string[] } | undefined;
  for (const line of readme.split('\n')) {
    if (!line.startsWith('```')) open?.lines.push(line);
    else if (open) {
      if (open.lang === lang) found.push(open.lines.map((l) => `${l}\n`).join(''));
      open = undefined;
    } else open = { lang: line.slice(3).trim(), lines: [] };
  }
  return found;
}
const bin = path.join(root, 'bin/transfusion-native.js');
const rootDir = root;

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

  // The plain blocks: a console session, a progress transcript and the source layout.
  const plain = blocks('');
  const session = plain.find((b) => b.startsWith('$ '))!;
  const transcript = plain.find((b) => b.startsWith('study: '))!;
  const layout = plain.find((b) => b.startsWith('native/core/'))!;

  it('shows a console session that prints what the CLI prints', () => {
    expect(session).toBeDefined();
    const work = path.join(dir, 'session');
    fs.mkdirSync(work, { recursive: true });
    const lines = session.trimEnd().split('\n');
    const printed: string[] = [];
    const expected: string[] = [];
    for (const line of lines) {
      if (!line.startsWith('$ ')) {
        expected.push(line);
        continue;
      }
      const command = line.slice(2).replace(/^npx transfusion-native /, `'${process.execPath}' '${bin}' `);
      const r = spawnSync('bash', ['-c', command], { cwd: work, encoding: 'utf8' });
      printed.push(...(r.stdout + r.stderr).trimEnd().split('\n').filter((l) => l !== ''));
    }
    // The README's session ran in /tmp/look.
    expect(printed.map((l) => l.split(work).join('/tmp/look'))).toEqual(expected);
  });

  it('shows a progress transcript whose every line has the shape of a line the CLI prints', () => {
    expect(transcript).toBeDefined();
    // Numbers, model names, initialisations and paths vary between studies; the words and their order do not.
    const shape = (l: string) =>
      l
        .replace(/(?:\/|…\/)[^\s,]+/g, 'PATH')
        .replace(/\b(?:\d+h )?(?:\d+m )?\d+(?:\.\d+)?s\b/g, 'DURATION')
        .replace(/\b(?:cbr-[a-z]+|resnet50(?:-slim)?|inception_v3)\b/g, 'MODEL')
        .replace(/\b(?:random|transfer)\b/g, 'INIT')
        .replace(/\d+(?:\.\d+)?/g, '#');
    const out = path.join(dir, 'transcript');
    const r = spawnSync(process.execPath, [bin, 'run', '--preset', 'tiny', '--out', out, '--cache-dir', path.join(dir, 'transcript-cache')], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const printed = new Set(r.stderr.split('\n').map(shape));
    const shown = transcript.trimEnd().split('\n').filter((l) => l !== '...');
    expect(shown.length).toBeGreaterThan(8);
    expect(shown.filter((l) => !printed.has(shape(l)))).toEqual([]);
  });

  it('draws a source layout whose every named file and folder exists', () => {
    expect(layout).toBeDefined();
    // Top-level folders start a line; a name below is looked up under the last top-level folder and its domains.
    const roots = [...layout.matchAll(/^([a-z]+\/)/gm)].map((m) => m[1]);
    expect(roots.length).toBeGreaterThan(5);
    let root = '';
    const missing: string[] = [];
    for (const line of layout.split('\n')) {
      const top = line.match(/^([a-z]+\/)/);
      if (top) root = top[1];
      for (const [name] of line.replace(/^[a-z]+\//, '').matchAll(/\b[\w-]+(?:\/[\w-]+)*\.(?:cc|h|ts|js|py|sh)\b|\b[a-z]+\/(?=\s|$)/g)) {
        if (name === 'napi.h') continue;  // node-addon-api's header, named as what native/core does not include
        const under = [root, 'native/core/', 'native/napi/', 'native/core/train/', 'native/core/distributed/', 'native/core/models/', 'native/core/memory/', 'src/experiments/', 'src/report/', 'src/data/files/', 'src/data/', 'src/init/', 'src/cli/', 'src/', 'bindings/', 'bench/', 'scripts/', 'test/'];
        if (!under.some((u) => fs.existsSync(path.join(rootDir, u, name))))
          missing.push(`${root}${name}`);
      }
    }
    expect(missing).toEqual([]);
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
