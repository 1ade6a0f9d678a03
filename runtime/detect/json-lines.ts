// Line numbers in JSON text, for errors about user files (COCO annotations): JSON.parse keeps no
// positions, so the entry an error is about is found again in the text, only when there is an error.

export type JsonPath = readonly (string | number)[];

function skipSpace(text: string, i: number): number {
  while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
  return i;
}

class SyntaxAt {
  constructor(readonly offset: number) {}
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** The offset just past the value at `i`, by JSON's grammar; throws SyntaxAt where it breaks. */
function strictValue(text: string, i: number): number {
  i = skipSpace(text, i);
  const c = text[i];
  if (c === '{' || c === '[') {
    const close = c === '{' ? '}' : ']';
    i = skipSpace(text, i + 1);
    if (text[i] === close) return i + 1;
    for (;;) {
      if (c === '{') {
        if (text[i] !== '"') throw new SyntaxAt(i);
        i = skipSpace(text, strictValue(text, i));
        if (text[i] !== ':') throw new SyntaxAt(i);
        i++;
      }
      i = skipSpace(text, strictValue(text, i));
      if (text[i] === close) return i + 1;
      if (text[i] !== ',') throw new SyntaxAt(i);
      i = skipSpace(text, i + 1);
    }
  }
  if (c === '"') {
    for (let j = i + 1; j < text.length; j++) {
      if (text.charCodeAt(j) < 0x20) throw new SyntaxAt(j);
      if (text[j] === '\\') j++;
      else if (text[j] === '"') return j + 1;
    }
    throw new SyntaxAt(text.length);
  }
  for (const word of ['true', 'false', 'null']) if (text.startsWith(word, i)) return i + word.length;
  NUMBER.lastIndex = i;
  if (NUMBER.test(text)) return NUMBER.lastIndex;
  throw new SyntaxAt(i);
}

/** The offset of the value at `path` (object keys and array indices) in valid JSON, or undefined. */
export function jsonOffset(text: string, path: JsonPath): number | undefined {
  let i = skipSpace(text, 0);
  for (const step of path) {
    const open = text[i];
    if (typeof step === 'string' ? open !== '{' : open !== '[') return undefined;
    i = skipSpace(text, i + 1);
    for (let index = 0; ; index++) {
      if (i >= text.length || text[i] === '}' || text[i] === ']') return undefined;
      let key: string | undefined;
      if (typeof step === 'string') {
        const end = strictValue(text, i);
        key = JSON.parse(text.slice(i, end)) as string;
        i = skipSpace(text, end);
        if (text[i] !== ':') return undefined;
        i = skipSpace(text, i + 1);
      }
      if (typeof step === 'string' ? key === step : index === step) break;
      i = skipSpace(text, strictValue(text, i));
      if (text[i] !== ',') return undefined;
      i = skipSpace(text, i + 1);
    }
  }
  return i;
}

/** The 1-based line of an offset. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/**
 * `file:line` of the deepest part of `path` found in the text (the field an error is about, else
 * its entry), or `file` alone.
 */
export function jsonWhere(file: string, text: string, path: JsonPath): string {
  for (let n = path.length; n > 0; n--) {
    const at = jsonOffset(text, path.slice(0, n));
    if (at !== undefined) return `${file}:${lineAt(text, at)}`;
  }
  return file;
}

/** Where text that JSON.parse refused first breaks JSON's grammar. */
export function syntaxErrorOffset(text: string): number | undefined {
  try {
    const end = skipSpace(text, strictValue(text, 0));
    return end < text.length ? end : undefined;
  } catch (e) {
    if (e instanceof SyntaxAt) return e.offset;
    throw e;
  }
}

/** JSON.parse's complaint as one line, with the line and column where the text breaks. */
export function jsonSyntaxError(file: string, text: string, error: Error): string {
  // Node quotes the whole text in some messages ("Unexpected token ']', "{..." is not valid JSON").
  const message = error.message
    .replace(/, (?:\.\.\.)?".*" is not valid JSON$/s, '')
    .replace(/ (?:in JSON )?at position \d+.*$/s, '')
    .replace(/\s+/g, ' ');
  const offset = syntaxErrorOffset(text);
  if (offset === undefined) return `${file}: invalid JSON: ${message}`;
  const line = lineAt(text, offset);
  const column = offset - (text.lastIndexOf('\n', offset - 1) + 1) + 1;
  return `${file}:${line}:${column}: invalid JSON: ${message}`;
}
