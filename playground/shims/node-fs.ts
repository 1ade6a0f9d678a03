// node:fs for the playground page: reads the in-memory files (the standard library, the editor's
// text) that files.ts holds. Writing is not something the page does.

import { PAGE_FILES } from '../files.ts';

export function existsSync(path: string): boolean {
  return PAGE_FILES.has(path) || [...PAGE_FILES.keys()].some((f) => f.startsWith(`${path}/`));
}

export function readFileSync(path: string): string {
  const text = PAGE_FILES.get(path);
  if (text === undefined) throw new Error(`ENOENT: no such file in the page: ${path}`);
  return text;
}

export function readdirSync(dir: string): string[] {
  const prefix = `${dir.replace(/\/$/, '')}/`;
  return [...PAGE_FILES.keys()].filter((f) => f.startsWith(prefix) && !f.slice(prefix.length).includes('/')).map((f) => f.slice(prefix.length));
}

function unsupported(name: string): never {
  throw new Error(`node:fs ${name} is not available in the playground`);
}

export const writeFileSync = (): never => unsupported('writeFileSync');
export const statSync = (): never => unsupported('statSync');

export default { existsSync, readFileSync, readdirSync, writeFileSync, statSync };
