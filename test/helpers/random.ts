// The one seeded generator of the tests and benchmarks: fault kill times, chaos decisions, fuzz
// seeds, scheduler properties and the fleet simulation all replay exactly from a printed seed.

/**
 * mulberry32: uniform in [0, 1) like Math.random, from a 32-bit seed. Small and fast, and the
 * same seed gives the same sequence on every run and machine.
 */
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
