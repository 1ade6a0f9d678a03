// node:url for the playground page: every module "lives" under /cnnc/<folder>/, so the front end's
// STDLIB_DIR (`../stdlib` from compiler/) is /cnnc/stdlib, where the page keeps the standard library.

export function fileURLToPath(_url: string | URL): string {
  return '/cnnc/compiler/program.js';
}

export function pathToFileURL(path: string): URL {
  return new URL(`file://${path}`);
}
