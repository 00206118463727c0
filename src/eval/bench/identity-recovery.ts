/**
 * Identity recovery: is the generated face nearer (face-metric cosine) to its own person than to any other
 * identity of the test split? A ground-truth check the paper could not make: it only had one photo per person.
 */

/** Index of the gallery row with the largest dot product with `q` (unit vectors: the nearest by cosine). */
export function nearestIdentity(q: Float32Array, gallery: readonly Float32Array[]): number {
  let best = -1;
  let bestS = -Infinity;
  gallery.forEach((g, i) => {
    let s = 0;
    for (let k = 0; k < q.length; k++) s += q[k]! * g[k]!;
    if (s > bestS) {
      bestS = s;
      best = i;
    }
  });
  return best;
}
