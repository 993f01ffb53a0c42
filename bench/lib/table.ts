/** One line of the report: the hub's figure, the raw-SQL floor measured in the same run, a verdict. */
export interface Row {
  name: string;
  hub: string;
  baseline: string;
  /** Hub figure / baseline figure, already formatted (e.g. "0.41× req/s"). */
  ratio: string;
  budget?: string;
  /** undefined when the row carries no budget. */
  pass?: boolean;
}

const num = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';

export const fmt = {
  rate: (n: number, unit = 'req/s') => `${num(n)} ${unit}`,
  ms: (n: number) => `${num(n, n < 10 ? 2 : 1)} ms`,
  mb: (n: number) => `${num(n, 0)} MB`,
  ratio: (n: number, what: string) => `${num(n, 2)}× ${what}`,
  s: (n: number) => `${num(n, 2)} s`,
};

export const latencyCell = (l: { p50: number; p99: number }) =>
  `p50 ${fmt.ms(l.p50)} · p99 ${fmt.ms(l.p99)}`;
export const throughputCell = (t: { rate: number; p50: number; p99: number }, unit = 'req/s') =>
  `${fmt.rate(t.rate, unit)} · ${latencyCell(t)}`;

const verdict = (r: Row) => (r.pass === undefined ? '—' : r.pass ? '**PASS**' : '**FAIL**');
const cell = (s: string) => s.replace(/\|/g, '\\|');

/**
 * Column titles a bench may rename: bench:scim compares the hub with raw SQL, bench:agent
 * compares LDAP reads with a direct ldapts read, so the same Row fields carry other meanings.
 */
export interface TableHeaders {
  name?: string;
  hub?: string;
  baseline?: string;
  ratio?: string;
}

/** The report as a Markdown table (pasteable into README). */
export function markdownTable(rows: Row[], headers: TableHeaders = {}): string {
  const head = [
    headers.name ?? 'Benchmark',
    headers.hub ?? 'Hub',
    headers.baseline ?? 'Raw SQL baseline (same run)',
    headers.ratio ?? 'Hub / baseline',
    'Budget',
    'Result',
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    lines.push(
      `| ${[r.name, r.hub, r.baseline, r.ratio, r.budget ?? '—', verdict(r)].map(cell).join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

/** One PASS/FAIL line per budgeted row. */
export function budgetSummary(rows: Row[]): string {
  return rows
    .filter((r) => r.pass !== undefined)
    .map((r) => `${r.pass ? 'PASS' : 'FAIL'}  ${r.name}: ${r.hub} (budget ${r.budget})`)
    .join('\n');
}
