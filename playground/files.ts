// The page's files: the standard library (embedded at build time) and the editor's buffer.

import { STDLIB_FILES } from 'cnnc-playground:stdlib';

export const STDLIB_DIR = '/cnnc/stdlib';
/** Where the editor's text lives for the front end (imports resolve from here). */
export const EDITOR_FILE = '/work/model.cnn';

export const PAGE_FILES = new Map<string, string>(Object.entries(STDLIB_FILES).map(([name, text]) => [`${STDLIB_DIR}/${name}`, text]));

export function stdlibNames(): string[] {
  return Object.keys(STDLIB_FILES).sort();
}
