import type { FaultRow } from './fault-run.ts';

/** What makes a row fail: anything lost, doubled, wrongly judged, paged twice or not at all. */
export function rowProblems(row: FaultRow): string[] {
  const problems: string[] = [...row.failures];
  if (row.stored !== row.eventsIn) problems.push(`${row.eventsIn - row.stored} events lost`);
  if (row.deadLettered !== row.deadLetteredExpected) problems.push(`${row.deadLettered} dead letters, ${row.deadLetteredExpected} expected`);
  if (row.doubleCounted > 0) problems.push(`${row.doubleCounted} double-counted`);
  if (row.runsWrong > 0) problems.push(`${row.runsWrong} runs with a wrong verdict`);
  if (row.pagesSent !== row.pagesExpected) problems.push(`${row.pagesSent} pages, ${row.pagesExpected} expected`);
  if (row.doublePages > 0) problems.push(`${row.doublePages} double pages`);
  if (row.resolves !== row.resolvesExpected) problems.push(`${row.resolves} resolves, ${row.resolvesExpected} expected`);
  return problems;
}

const COLUMNS: [string, (r: FaultRow) => string][] = [
  ['fault', (r) => r.fault],
  ['events in', (r) => String(r.eventsIn)],
  ['stored', (r) => String(r.stored)],
  ['lost', (r) => String(r.eventsIn - r.stored)],
  ['dead-lettered', (r) => `${r.deadLettered}/${r.deadLetteredExpected}`],
  ['double-counted', (r) => String(r.doubleCounted)],
  ['wrong runs', (r) => String(r.runsWrong)],
  ['pages expected', (r) => String(r.pagesExpected)],
  ['pages sent', (r) => String(r.pagesSent)],
  ['double pages', (r) => String(r.doublePages)],
  ['resolves', (r) => `${r.resolves}/${r.resolvesExpected}`],
  ['peak RSS MB', (r) => String(r.peakRssMb)],
  ['result', (r) => (rowProblems(r).length === 0 ? 'ok' : 'FAIL')],
];

/** The table as Markdown (it reads in a terminal too, and goes into the README as is). */
export function formatTable(rows: readonly FaultRow[]): string {
  const lines = [`| ${COLUMNS.map(([h]) => h).join(' | ')} |`, `| ${COLUMNS.map(() => '---').join(' | ')} |`];
  for (const row of rows) lines.push(`| ${COLUMNS.map(([, cell]) => cell(row)).join(' | ')} |`);
  const notes = rows.flatMap((r) => [...r.notes.map((n) => `- ${r.fault}: ${n}`), ...rowProblems(r).map((p) => `- ${r.fault}: FAIL: ${p}`)]);
  return [...lines, ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
}
