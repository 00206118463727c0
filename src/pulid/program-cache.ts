/**
 * Compiled programs kept by key for the life of one pipeline part (the UNet, the VAE decoder, the ID encoder):
 * each batch size, shape or setting is traced and compiled once, and `dispose` releases every session.
 */
import type { Program } from "../engine/compile.ts";

export class ProgramCache<K> {
  private readonly programs = new Map<K, Program>();

  /** The program for `key`, built by `build` on first use. */
  get(key: K, build: () => Program): Program {
    let p = this.programs.get(key);
    if (!p) {
      p = build();
      this.programs.set(key, p);
    }
    return p;
  }

  /** Programs currently built (and holding their sessions). */
  get size(): number {
    return this.programs.size;
  }

  /** Releases every program; a later `get` traces and builds again. */
  async dispose(): Promise<void> {
    // Forget them first: a call starting while these are released compiles fresh ones instead of using a dead one.
    const programs = [...this.programs.values()];
    this.programs.clear();
    await Promise.all(programs.map((p) => p.dispose()));
  }
}
