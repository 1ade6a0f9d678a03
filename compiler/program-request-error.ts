// A program asked of a model that it cannot give, or asked with settings out of range: training or
// evaluating a model that declares no loss, optimising the input of a model without exactly one
// trainable input, a learning rate or batch size that is not positive. These come from what the
// user wrote or chose, so they are user errors (IrError is kept for broken invariants, bugs only).

import { UserError } from '../grammar/user-error.ts';

export class ProgramRequestError extends UserError {
  override readonly name = 'ProgramRequestError';
}
