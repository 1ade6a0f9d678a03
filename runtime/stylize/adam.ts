// Adam on a host array (PyTorch's update rule, bias-corrected), with the result clipped to a box:
// style transfer's pixels stay in [0, 255] after every step, as the course clips them.

export interface AdamOptions {
  readonly lr: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  /** Clip every element to [min, max] after the step. */
  readonly min?: number;
  readonly max?: number;
}

export class BoxedAdam {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private t = 0;

  constructor(size: number, private readonly options: AdamOptions) {
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  /** One update of `x` in place from its gradient `g`. */
  step(x: Float32Array, g: Float32Array): void {
    const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, min = -Infinity, max = Infinity } = this.options;
    this.t++;
    const c1 = 1 - beta1 ** this.t;
    const c2 = 1 - beta2 ** this.t;
    for (let i = 0; i < x.length; i++) {
      const gi = g[i]!;
      const m = (this.m[i] = beta1 * this.m[i]! + (1 - beta1) * gi);
      const v = (this.v[i] = beta2 * this.v[i]! + (1 - beta2) * gi * gi);
      const next = x[i]! - (lr * (m / c1)) / (Math.sqrt(v / c2) + eps);
      x[i] = Math.min(max, Math.max(min, next));
    }
  }
}
