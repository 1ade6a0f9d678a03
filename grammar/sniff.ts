// A file that is not UTF-8 text (saved as UTF-16 by a Windows editor, or a binary such as a
// weights file passed by mistake) would give one lexer error per odd byte: say what it is, once.

import { messages, type Message } from './catalog/index.ts';

/** Node decodes invalid UTF-8 bytes (like UTF-16's byte-order mark FF FE) as U+FFFD. */
const REPLACEMENT = '\uFFFD';

/** Why `text` cannot be .cnn source, or undefined when it can be. */
export function sniffEncoding(text: string): Message | undefined {
  const head = text.slice(0, 4096);
  if (head.length === 0) return undefined;
  let bad = 0;
  // UTF-16 ASCII text has a NUL in every other position, all on the same side.
  const nulAt = [0, 0];
  for (let i = 0; i < head.length; i++) {
    const c = head[i];
    if (c === '\0') nulAt[i % 2]++;
    else if (c === REPLACEMENT) bad++;
  }
  const nul = nulAt[0] + nulAt[1];
  const utf16Bom = head.startsWith(REPLACEMENT + REPLACEMENT);
  const alternating = Math.max(nulAt[0], nulAt[1]) >= 0.9 * nul && nul >= head.length / 3;
  if (nul > 0 && (utf16Bom || alternating)) {
    return messages.lexError.utf16();
  }
  if (nul > 0 || bad > Math.max(8, head.length / 16)) {
    return messages.lexError.binary({ hasNul: nul > 0 });
  }
  return undefined;
}
