// Seeded randomness for the fault suite: every random kill time, chaos decision and fuzz seed
// comes from one printed seed, so a failure seen once can be replayed with HEPH_FAULT_SEED.

/** mulberry32: uniform in [0, 1) like Math.random, from a 32-bit seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
