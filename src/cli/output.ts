/** Where command results go: a spinner on a TTY (never in CI or with --json), plain text, JSON. */
import type { Report } from '../report/table.js';

export interface Progress {
  update(text: string): void;
  stop(): void;
}

export async function progress(json: boolean | undefined, text: string): Promise<Progress> {
  // a terminal of 0 columns (some pseudo-terminals) makes ora redraw forever: no spinner there
  const quiet = json || !process.stderr.isTTY || !(process.stderr.columns > 0) || process.env.CI === 'true' || process.env.CI === '1';
  if (quiet) return { update: () => {}, stop: () => {} };
  const { default: ora } = await import('ora');
  const spinner = ora({ text, stream: process.stderr }).start();
  return { update: (t) => { spinner.text = t; }, stop: () => spinner.stop() };
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export async function printReport(r: Report, markdown?: boolean): Promise<void> {
  const { renderMarkdown, renderTable } = await import('../report/table.js');
  process.stdout.write(`${markdown ? renderMarkdown(r) : renderTable(r)}\n`);
}
