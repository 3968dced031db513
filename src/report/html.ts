// report.html: report.md's content as one self-contained page (no scripts, no fonts or styles to fetch), every
// figure inline as a data: URI with its caption, under the section of report.md it illustrates. The markdown is the
// small subset renderReport writes: headings, paragraphs, pipe tables, "- " lists, image lines, `code`, _em_, **strong**.

/** A figure as the page shows it. */
export interface PageFigure {
  /** The element's id, e.g. "figure-6". */
  id: string;
  title: string;
  caption: string;
  /** The start of the "## " heading it goes under; figures whose heading is absent go in a "Figures" section. */
  section: string;
  /** A data: URI. */
  src: string;
  /** Natural size in CSS pixels, when known. */
  width?: number;
  height?: number;
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Inline markdown: code spans verbatim, then **strong** and _em_ (underscores inside words, as in W_init, stay). */
export function inline(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part) =>
      part.startsWith('`') && part.endsWith('`') && part.length > 1
        ? `<code>${escape(part.slice(1, -1))}</code>`
        : escape(part)
            .replace(/\*\*(\S(?:.*?\S)?)\*\*/g, '<strong>$1</strong>')
            .replace(/(^|[\s(])_(\S(?:.*?\S)?)_(?=$|[\s.,;:!?)])/g, '$1<em>$2</em>'),
    )
    .join('');
}

const cells = (row: string) => row.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());

function table(rows: string[]): string {
  const [head, , ...body] = rows;
  return [
    '<div class="table"><table>',
    `<thead><tr>${cells(head).map((c) => `<th>${inline(c)}</th>`).join('')}</tr></thead>`,
    '<tbody>',
    ...body.map((row) => `<tr>${cells(row).map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`),
    '</tbody></table></div>',
  ].join('\n');
}

export function figureHtml(f: PageFigure): string {
  const size = f.width && f.height ? ` width="${Math.round(f.width)}" height="${Math.round(f.height)}"` : '';
  return [
    `<figure id="${escape(f.id)}">`,
    `<img src="${f.src}" alt="${escape(f.title)}"${size}>`,
    `<figcaption><strong>${inline(f.title)}.</strong> ${inline(f.caption)}</figcaption>`,
    '</figure>',
  ].join('\n');
}

const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/**
 * The page. `image` resolves a markdown image line's target (a file relative to the run directory) to a figure, or
 * undefined when the file is not there.
 */
export function renderHtml(markdown: string, figures: PageFigure[], image: (src: string, alt: string) => PageFigure | undefined): string {
  const headings = markdown.split('\n').filter((l) => l.startsWith('## ')).map((l) => l.slice(3));
  const placed = (f: PageFigure) => headings.some((h) => h.startsWith(f.section));
  const under = (heading: string) => figures.filter((f) => heading.startsWith(f.section));
  const loose = figures.filter((f) => !placed(f));
  const out: string[] = [];
  let paragraph: string[] = [], list: string[] = [], rows: string[] = [], heading: string | undefined;
  const flush = () => {
    if (paragraph.length) out.push(`<p>${inline(paragraph.join(' '))}</p>`);
    if (list.length) out.push('<ul>', ...list.map((item) => `<li>${inline(item)}</li>`), '</ul>');
    if (rows.length) out.push(table(rows));
    paragraph = [];
    list = [];
    rows = [];
  };
  const endSection = () => {
    flush();
    if (heading !== undefined) out.push(...under(heading).map(figureHtml));
  };
  for (const line of [...markdown.split('\n'), '']) {
    const picture = /^!\[(.*)\]\((.*)\)$/.exec(line.trim());
    if (line.startsWith('## ') || line.startsWith('# ')) {
      endSection();
      const text = line.replace(/^#+ /, '');
      if (line.startsWith('# ')) out.push(`<h1>${inline(text)}</h1>`);
      else {
        if (text.startsWith('Settings') && loose.length) out.push('<h2 id="section-figures">Figures</h2>', ...loose.map(figureHtml));
        out.push(`<h2 id="section-${slug(text)}">${inline(text)}</h2>`);
        heading = text;
      }
    } else if (line.startsWith('|')) {
      if (!rows.length) flush();
      rows.push(line);
    } else if (line.startsWith('- ')) {
      if (!list.length) flush();
      list.push(line.slice(2));
    } else if (picture) {
      flush();
      const f = image(picture[2], picture[1]);
      out.push(f ? figureHtml(f) : `<p class="missing">Figure file not found: <code>${escape(picture[2])}</code></p>`);
    } else if (!line.trim()) flush();
    else {
      if (list.length || rows.length) flush();
      paragraph.push(line.trim());
    }
  }
  endSection();
  if (loose.length && !headings.some((h) => h.startsWith('Settings'))) out.push('<h2 id="section-figures">Figures</h2>', ...loose.map(figureHtml));
  const title = (markdown.split('\n').find((l) => l.startsWith('# ')) ?? '# Transfusion study').slice(2).replace(/`/g, '');
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escape(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    ...out,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

const STYLE = `
body { font: 15px/1.5 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #1a1a1a; background: #fff; max-width: 980px; margin: 2rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.55rem; line-height: 1.3; }
h2 { font-size: 1.2rem; margin-top: 2.2rem; padding-bottom: 0.2rem; border-bottom: 1px solid #ddd; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 0.88em; background: #f2f2f2; padding: 0 0.2em; border-radius: 3px; }
.table { overflow-x: auto; margin: 1rem 0; }
table { border-collapse: collapse; font-size: 13.5px; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d4d4d4; padding: 0.3rem 0.55rem; text-align: left; vertical-align: top; }
thead th { background: #f2f2f2; }
tbody tr:nth-child(even) { background: #fafafa; }
figure { margin: 1.6rem 0; break-inside: avoid; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid #e4e4e4; }
figcaption { font-size: 14px; color: #333; margin-top: 0.5rem; max-width: 680px; }
.missing { color: #a00; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } .table { overflow: visible; } }
`.trim();
