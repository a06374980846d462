/**
 * One result model → a terminal table (cli-table3) or a Markdown table. A report is a list of
 * column headers and rows of already formatted cells.
 */
import { createRequire } from 'node:module';

export interface Report {
  title?: string;
  head: string[];
  rows: string[][];
  /** lines printed under the table */
  footer?: string[];
}

const require = createRequire(import.meta.url);

export function renderTable(r: Report): string {
  const Table = require('cli-table3') as typeof import('cli-table3');
  const t = new Table({ head: r.head, style: { head: [], border: [] } });
  for (const row of r.rows) t.push(row);
  const parts = [];
  if (r.title) parts.push(r.title);
  parts.push(t.toString());
  if (r.footer?.length) parts.push(...r.footer);
  return parts.join('\n');
}

export function renderMarkdown(r: Report): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines: string[] = [];
  if (r.title) lines.push(`**${esc(r.title)}**`, '');
  lines.push(`| ${r.head.map(esc).join(' | ')} |`);
  lines.push(`|${r.head.map(() => '---').join('|')}|`);
  for (const row of r.rows) lines.push(`| ${row.map(esc).join(' | ')} |`);
  if (r.footer?.length) lines.push('', ...r.footer);
  return lines.join('\n');
}
