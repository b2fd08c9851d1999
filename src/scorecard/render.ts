import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import type { ScorecardView } from './model.ts';

/**
 * The scorecard's two bodies. Templates are precompiled once, when this module loads (a syntax
 * error fails the start, not a Monday send), in strict mode: a field the view lacks throws
 * instead of leaving a blank in someone's inbox. The HTML escapes every value; both bodies get
 * strings with control and bidi characters blanked and long values clipped, so event data can
 * neither run, forge a line, nor reorder what is shown.
 */

const hb = Handlebars.create();
hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
hb.registerHelper('clip', (value: unknown, max: unknown) => clip(String(value), typeof max === 'number' ? max : 200));

function precompiled(file: string, noEscape: boolean): Handlebars.TemplateDelegate {
  const source = readFileSync(join(import.meta.dirname, 'templates', file), 'utf8');
  const spec = hb.precompile(source, { strict: true, noEscape });
  // The precompiled spec is JavaScript source produced by Handlebars from our own template file.
  return hb.template(new Function(`return ${String(spec)}`)() as TemplateSpecification);
}

type TemplateSpecification = Parameters<typeof hb.template>[0];

const HTML = precompiled('scorecard.html.hbs', false);
const TEXT = precompiled('scorecard.txt.hbs', true);

// C0/C1 controls, line and paragraph separators, bidi embeddings, overrides and isolates.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const LONGEST = 2_000;

export function clip(value: string, max: number): string {
  const clean = value.replace(UNSAFE, ' ');
  return clean.length <= max ? clean : `${clean.slice(0, Math.max(1, max - 1))}…`;
}

/** Every string in the view cleaned (and clipped at a length no honest value reaches). */
export function cleanStrings<T>(value: T): T {
  if (typeof value === 'string') return clip(value, LONGEST) as T;
  if (Array.isArray(value)) return value.map(cleanStrings) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cleanStrings(v)])) as T;
  return value;
}

/** The view cleaned, with where each SLO's chart is (a cid: for mail, a data: URI on the web): what the templates read. */
function templateInput(view: ScorecardView, chartSrcs: readonly string[]) {
  const clean = cleanStrings(view);
  return { ...clean, slos: clean.slos.map((s, i) => ({ ...s, chartSrc: chartSrcs[i] ?? '' })) };
}

export function renderHtml(view: ScorecardView, chartSrcs: readonly string[]): string {
  return HTML(templateInput(view, chartSrcs));
}

export function renderText(view: ScorecardView): string {
  return TEXT(templateInput(view, [])).replace(/\n{3,}/g, '\n\n');
}

export function subject(view: ScorecardView): string {
  const first = view.empty ? 'nothing to report' : view.summary[0]!;
  return clip(`[seamwatch] ${view.team} reliability ${view.week}: ${first}`, 200);
}
