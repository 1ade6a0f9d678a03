// Recognition against a database: the identity of the closest database image.

import type { Database } from './database.ts';
import { distance, row } from './verification.ts';

export function nearestIdentity(db: Database, encoding: Float32Array): { identity: string; distance: number } {
  let best = { identity: db.images[0].identity, distance: Infinity };
  for (let i = 0; i < db.images.length; i++) {
    const d = distance(row(db.encodings, i), encoding);
    if (d < best.distance) best = { identity: db.images[i].identity, distance: d };
  }
  return best;
}
