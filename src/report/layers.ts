// Layers that several figures share: grouped bars with error bars and single runs as dots, drawn from one table of
// rows marked by `kind` (mean: the bar and its error bar; run: a dot; label: a text above the bar). Error bars are
// drawn over the dots, so many runs do not hide them.
import type { Field } from 'vega-lite/build/src/channeldef';
import type { TopLevelSpec } from 'vega-lite';
import type { UnitSpec } from 'vega-lite/build/src/spec';

import { legendColumns, ordered, panels, PRINT_STYLE } from './chart';

export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/** A data row of a figure: plain values only, so a spec is JSON as it stands. */
export type Row = Record<string, string | number | boolean | null>;

/**
 * A figure of one panel per model (rows carry `model`, panels in the rows' order, two across when there are several):
 * `panel` is each panel's spec (its mark or layers), given the panels' width and height; `independentX` gives each
 * panel its own x scale (models with different stages).
 */
export function modelPanels(title: string, rows: Row[], panel: Record<string, unknown>, o: { height?: number; independentX?: boolean } = {}) {
  const models = ordered(rows.map((x) => String(x.model)));
  const size = panels(models.length, o.height);
  return {
    $schema: SCHEMA, config: PRINT_STYLE, title, data: { values: rows },
    facet: { field: 'model', type: 'nominal', title: null, sort: models }, columns: size.columns,
    ...(o.independentX ? { resolve: { scale: { x: 'independent' } } } : {}),
    spec: { width: size.width, height: size.height, ...panel },
  } as TopLevelSpec;
}

export const only = (kind: string) => [{ filter: `datum.kind === '${kind}'` }];

export interface BarOptions {
  /** The field along x (groups of bars). */
  x: string;
  xTitle: string | null;
  /** The field that splits a group into bars and colours them (default "init"). */
  series?: string;
  colour: { domain: string[]; range: string[]; title: string };
  yTitle: string;
  domain: [number, number];
  /** Where the bars start (an AUC chart starts at chance). */
  base: number;
  /** Long group names: labels turned 30 degrees. */
  slanted?: boolean;
  /** Draw the rows of kind "label" as text above their bars. */
  label?: boolean;
  /** A dashed rule at this y (an AUC chart's chance, 50). */
  chance?: number;
}

export function bars(o: BarOptions): UnitSpec<Field>[] {
  const series = o.series ?? 'init';
  const x = { field: o.x, type: 'nominal' as const, title: o.xTitle, sort: null, axis: o.slanted ? { labelAngle: -30, labelAlign: 'right' as const, labelLimit: 160 } : { labelAngle: 0, labelLimit: 160 } };
  const xOffset = { field: series, type: 'nominal' as const, sort: o.colour.domain };
  const y = (field: string) => ({ field, type: 'quantitative' as const, title: o.yTitle, scale: { domain: o.domain } });
  const color = { field: series, type: 'nominal' as const, title: o.colour.title, scale: { domain: o.colour.domain, range: o.colour.range }, legend: { orient: 'bottom' as const, columns: legendColumns(o.colour.domain) } };
  return [
    { transform: only('mean'), mark: { type: 'bar', clip: true }, encoding: { x, xOffset, y: y('mean'), y2: { datum: o.base }, color } },
    { transform: only('run'), mark: { type: 'point', clip: true, filled: true, size: 24, color: '#222', opacity: 0.6 }, encoding: { x, xOffset, y: y('value') } },
    { transform: only('mean'), mark: { type: 'rule', clip: true, strokeWidth: 1.5, color: '#222' }, encoding: { x, xOffset, y: y('lo'), y2: { field: 'hi' } } },
    ...(o.label
      ? [{ transform: only('label'), mark: { type: 'text' as const, dy: -9, fontSize: 11 }, encoding: { x, xOffset, y: y('value'), text: { field: 'label' } } }]
      : []),
    ...(o.chance !== undefined
      ? [{ transform: only('mean'), mark: { type: 'rule' as const, strokeDash: [5, 4], strokeWidth: 1.2, color: '#777' }, encoding: { y: { datum: o.chance, type: 'quantitative' as const, scale: { domain: o.domain } } } }]
      : []),
  ];
}
