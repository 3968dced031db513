// The page-side callbacks run in Chromium: they need the DOM types.
/// <reference lib="dom" />
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

import puppeteer, { type Browser } from 'puppeteer-core';
import sharp from 'sharp';

import { readResults } from '../../src/experiments/results';
import { inline, renderHtml } from '../../src/report/html';
import { writeReport } from '../../src/report/write';
import { FIXTURES, writeFilterPngs } from '../helpers/results';
import { tempDir } from '../helpers/tmp';

const CHROMIUM = '/usr/bin/chromium';
const maybe = fs.existsSync(CHROMIUM) ? it : it.skip;
if (!fs.existsSync(CHROMIUM)) console.warn(`report-html: ${CHROMIUM} is absent, so report.html is not opened in a browser (apt-get install chromium)`);

/** The figure elements each study's page must show. */
const FIGURE_IDS: Record<string, string[]> = {
  table1: ['table-1', 'convergence'],
  'small-data': ['table-3', 'convergence'],
  chexpert: ['table-2', 'convergence'],
  meanvar: ['figure-6'],
  transfusion: ['figure-7', 'figure-7-curves'],
  hybrids: ['figure-8', 'figure-8-curves'],
  similarity: ['figure-2'],
  layers: ['figure-3'],
  'init-vs-final': ['figure-4'],
  filters: ['figure-5-resnet50', 'figure-5-cbr-small'],
};

const root = tempDir('report-html');
const written: Record<string, string[]> = {};
const said: string[] = [];

beforeAll(async () => {
  // Each fixture as a run directory (results.json, and the filter grids a filters study leaves), reported from there.
  for (const [experiment, make] of Object.entries(FIXTURES)) {
    const dir = path.join(root, experiment);
    fs.mkdirSync(dir, { recursive: true });
    const r = make();
    fs.writeFileSync(path.join(dir, 'results.json'), JSON.stringify(r, null, 2));
    await writeFilterPngs(dir, r);
    const { files, warnings } = await writeReport(dir, readResults(dir));
    written[experiment] = files;
    said.push(...warnings);
  }
});

describe('writeReport', () => {
  it.each(Object.keys(FIGURE_IDS))('writes report.md, report.html and each figure as SVG and PNG for %s', (experiment) => {
    const dir = path.join(root, experiment);
    const figures = experiment === 'filters' ? [] : FIGURE_IDS[experiment].flatMap((id) => [`figures/${id}.svg`, `figures/${id}.png`]);
    expect(written[experiment].map((f) => path.relative(dir, f)).sort()).toEqual(['report.md', 'report.html', 'runs.csv', 'curves.csv', ...figures].sort());
    for (const f of written[experiment]) expect(fs.statSync(f).size).toBeGreaterThan(100);
    // Atomic writes leave no temporary files behind.
    const left = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? left(path.join(d, e.name)) : [e.name]));
    expect(left(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('draws every figure without a warning from vega', () => expect(said).toEqual([]));

  it('writes PNG figures sharp can read, at twice the SVG size', async () => {
    const png = path.join(root, 'transfusion', 'figures', 'figure-7.png');
    const meta = await sharp(png).metadata();
    const svg = fs.readFileSync(path.join(root, 'transfusion', 'figures', 'figure-7.svg'), 'utf8');
    expect(meta.format).toBe('png');
    expect(meta.width).toBe(2 * Number(/<svg[^>]* width="([\d.]+)"/.exec(svg)![1]));
  });

  it('writes a page that needs nothing else: no scripts, no links out, every figure inline', () => {
    for (const experiment of Object.keys(FIGURE_IDS)) {
      const html = fs.readFileSync(path.join(root, experiment, 'report.html'), 'utf8');
      expect(html).not.toMatch(/<script|<link|@import|\b(src|href)="(?!data:)/);
      for (const id of FIGURE_IDS[experiment]) expect(html).toMatch(new RegExp(`<figure id="${id}">\\s*<img src="data:image/(svg\\+xml|png);base64,`));
      const md = fs.readFileSync(path.join(root, experiment, 'report.md'), 'utf8');
      // Every markdown table becomes a table: count the header separators.
      expect((html.match(/<table>/g) ?? []).length).toBe((md.match(/^\|---/gm) ?? []).length);
    }
  });

  it('places a figure under the section it illustrates', () => {
    const html = fs.readFileSync(path.join(root, 'table1', 'report.html'), 'utf8');
    const at = (s: string) => html.indexOf(s);
    expect(at('id="section-table-1')).toBeLessThan(at('<figure id="table-1">'));
    expect(at('<figure id="table-1">')).toBeLessThan(at('id="section-convergence'));
    expect(at('<figure id="convergence">')).toBeLessThan(at('id="section-settings"'));
  });
});

describe('renderHtml', () => {
  it('shows AUPRC, the AUC interval and kappa as table columns in report.html (issue 18: in the HTML tables too)', async () => {
    const dir = path.join(root, 'metrics');
    fs.mkdirSync(dir, { recursive: true });
    const r = FIXTURES.table1();
    r.runs = r.runs.map((x, k) => ({ ...x, auprc: 0.5 + k / 100, aucCi: [0.61, 0.93] as [number, number], kappa: 0.7 }));
    fs.writeFileSync(path.join(dir, 'results.json'), JSON.stringify(r, null, 2));
    await writeReport(dir, readResults(dir));
    const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
    for (const header of ['AUPRC', 'Mean 95% CI of AUC', 'Kappa']) expect(html).toContain(`<th>${header}</th>`);
    expect(html).toContain('<td>[61.00, 93.00]</td>');  // the interval's mean bounds, in % as the AUC is
    expect(html).toContain('<td>0.700 ± 0.000 (n=');  // kappa, mean ± std over seeds
  });

  it('converts the markdown subset report.md uses', () => {
    expect(inline('`a_b` and _emphasis_, but W_trained − W_init stays; **strong** <tag>')).toBe(
      '<code>a_b</code> and <em>emphasis</em>, but W_trained − W_init stays; <strong>strong</strong> &lt;tag&gt;',
    );
    const html = renderHtml('# Title `x`\n\nSome\ntext.\n\n## Table 9: t\n\n| A | B |\n|---|---|\n| 1 | 2 |\n\n- one\n- two\n\n![f.png](f.png)\n', [], () => undefined);
    expect(html).toContain('<title>Title x</title>');
    expect(html).toContain('<p>Some text.</p>');
    expect(html).toContain('<thead><tr><th>A</th><th>B</th></tr></thead>');
    expect(html).toContain('<tr><td>1</td><td>2</td></tr>');
    expect(html).toContain('<ul>\n<li>one</li>\n<li>two</li>\n</ul>');
    expect(html).toContain('Figure file not found: <code>f.png</code>');
  });

  it('puts figures whose section is absent in a Figures section before the settings', () => {
    const figure = { id: 'figure-9', title: 'T', caption: 'C', section: 'Nowhere', src: 'data:image/png;base64,AA==' };
    const html = renderHtml('# R\n\n## Settings\n\n- s\n', [figure], () => undefined);
    expect(html.indexOf('<h2 id="section-figures">Figures</h2>')).toBeLessThan(html.indexOf('<figure id="figure-9">'));
    expect(html.indexOf('<figure id="figure-9">')).toBeLessThan(html.indexOf('id="section-settings"'));
  });
});

describe('report.html in headless Chromium', () => {
  let browser: Browser | undefined;
  beforeAll(async () => {
    if (fs.existsSync(CHROMIUM)) browser = await puppeteer.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
  });
  afterAll(async () => browser?.close());

  maybe('loads every page without errors, with each figure drawn at a non-zero size and the tables present', async () => {
    for (const experiment of Object.keys(FIGURE_IDS)) {
      const page = await browser!.newPage();
      const problems: string[] = [];
      page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
      page.on('pageerror', (e) => problems.push(`page error: ${(e as Error).message}`));
      page.on('requestfailed', (r) => problems.push(`request failed: ${r.url().slice(0, 80)}`));
      await page.setViewport({ width: 1100, height: 900 });
      await page.goto(pathToFileURL(path.join(root, experiment, 'report.html')).href, { waitUntil: 'load' });
      const shown = await page.evaluate(async (ids: string[]) => {
        await Promise.all(Array.from(document.images).map((img) => img.decode()));
        return {
          figures: ids.map((id) => {
            const el = document.getElementById(id);
            const img = el?.querySelector('img');
            const box = img?.getBoundingClientRect();
            return { id, tag: el?.tagName, caption: el?.querySelector('figcaption')?.textContent ?? '', natural: img?.naturalWidth ?? 0, width: box?.width ?? 0, height: box?.height ?? 0 };
          }),
          tables: document.querySelectorAll('table').length,
          rows: document.querySelectorAll('tbody tr').length,
        };
      }, FIGURE_IDS[experiment]);
      expect(problems).toEqual([]);
      for (const f of shown.figures) {
        expect(f).toMatchObject({ tag: 'FIGURE' });
        expect(f.caption.length).toBeGreaterThan(40);
        expect(f.natural).toBeGreaterThan(0);
        expect(f.width).toBeGreaterThan(300);
        expect(f.height).toBeGreaterThan(100);
      }
      expect(shown.tables).toBeGreaterThanOrEqual(2);  // the study's table and the runs
      expect(shown.rows).toBeGreaterThan(0);
      const shot = path.join(root, 'screenshots', `${experiment}.png`);
      fs.mkdirSync(path.dirname(shot), { recursive: true });
      await page.screenshot({ path: shot as `${string}.png`, fullPage: true });
      expect((await sharp(shot).metadata()).width).toBe(1100);
      await page.close();
    }
  });
});
