#!/usr/bin/env node
// Run by `npm publish` (prepublishOnly): refuses to publish a package a user cannot trace back. The project has no
// public address yet, so package.json cannot name one without inventing it; whoever publishes adds `repository`,
// `homepage` and `bugs` first, and gives the version a section in CHANGELOG.md.
//
//   node scripts/check-publish.js [DIR]     (DIR: the package root, default this one)
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(process.argv[2] ?? path.join(__dirname, '..'));
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const problems = [];
const url = (v) => (typeof v === 'string' ? v : v && typeof v === 'object' ? v.url : undefined);
for (const field of ['repository', 'homepage', 'bugs']) {
  const v = url(pkg[field]);
  if (typeof v !== 'string' || !/^(https?|git\+https|git\+ssh|git):\/\/\S+$/.test(v)) problems.push(`package.json has no ${field} URL`);
}
if (!Array.isArray(pkg.keywords) || pkg.keywords.length === 0) problems.push('package.json has no keywords');
if (!fs.existsSync(path.join(root, 'LICENSE'))) problems.push('there is no LICENSE file');
const changelog = fs.existsSync(path.join(root, 'CHANGELOG.md')) ? fs.readFileSync(path.join(root, 'CHANGELOG.md'), 'utf8') : '';
if (!new RegExp(`^## .*\\b${pkg.version.replace(/\./g, '\\.')}\\b`, 'm').test(changelog)) problems.push(`CHANGELOG.md has no section for version ${pkg.version}`);
if (problems.length) {
  process.stderr.write(`check-publish: ${pkg.name}@${pkg.version} is not ready to publish:\n${problems.map((p) => `  - ${p}\n`).join('')}`);
  process.exit(1);
}
process.stdout.write(`check-publish: ${pkg.name}@${pkg.version} has its repository, homepage, bugs, keywords, LICENSE and changelog\n`);
