// Text from a user's file or command line goes into messages printed on a terminal. Control
// characters, escape sequences and bidirectional overrides in it would act on the terminal (clear
// the screen, reorder the line) instead of being read: they are shown as `\u{...}` escapes.

// C0 controls but tab, DEL, C1 controls, bidirectional marks/embeddings/overrides/isolates, BOM.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** `text` with every character that acts on a terminal replaced by a visible escape. */
export function escapeControl(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`);
}
