// The README's table of commands, generated from the same descriptions as `--help` (commands.ts);
// `node bin/run-ts.js scripts/readme-commands.ts` rewrites it and a test keeps it current.

import type { CommandSpec } from './command.ts';

export const TABLE_START = '<!-- commands: generated from cli/commands.ts by scripts/readme-commands.ts -->';
export const TABLE_END = '<!-- /commands -->';

/** A Markdown table cell: pipes escaped, one line. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

export function commandTable(commands: readonly CommandSpec[]): string {
  const rows = commands.map((c) => `| \`${cell(`cnnc ${c.name} ${c.args}`.trim())}\` | ${cell(c.summary)} |`);
  return ['| command | does |', '| --- | --- |', ...rows].join('\n');
}

/** `readme` with the text between the markers replaced by the table; throws when a marker is missing. */
export function withCommandTable(readme: string, commands: readonly CommandSpec[]): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`README.md lacks the markers ${TABLE_START} ... ${TABLE_END}`);
  return `${readme.slice(0, start + TABLE_START.length)}\n${commandTable(commands)}\n${readme.slice(end)}`;
}
