// Errors that describe bad input (arguments, files, data, weights, a missing device) rather than a
// bug in cnnc. Every user-facing error class extends UserError, so a front end tells the two apart
// with `instanceof`: the command line prints a user error as one line without a stack and exits
// 1 for data that does not fit the model, 2 for everything else. Source text never throws: its
// problems are diagnostics (diagnostics.ts).

/** `data`: the data does not fit the model (a missing field, a wrong shape, a label out of range); `usage`: anything else the user gave. */
export type UserErrorKind = 'data' | 'usage';

export abstract class UserError extends Error {
  readonly kind: UserErrorKind = 'usage';
}
