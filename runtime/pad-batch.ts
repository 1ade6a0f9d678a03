// The one way a short batch meets a program compiled for a fixed batch: the examples given come
// first and the rest of the batch is zeros; callers read back only the first rows. Zeros rather
// than copies of a real example, so a padded row can never be mistaken for data (and batch
// statistics, were they taken, would see the same padding everywhere). Browser-safe.

/**
 * `values` holds `count` examples of `perExample` numbers each; returns `batch` examples, those
 * followed by zeros. A full Float32Array is returned as it is (no copy).
 */
export function padBatch(values: ArrayLike<number>, count: number, batch: number, perExample: number): Float32Array {
  if (count > batch) throw new RangeError(`a batch of ${batch} cannot hold ${count} examples`);
  if (values.length !== count * perExample) throw new RangeError(`${count} examples of ${perExample} values need ${count * perExample}, got ${values.length}`);
  if (count === batch && values instanceof Float32Array) return values;
  const out = new Float32Array(batch * perExample);
  if (values instanceof Float32Array) out.set(values);
  else for (let i = 0; i < values.length; i++) out[i] = values[i]!;
  return out;
}
