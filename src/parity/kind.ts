import type { Fixture } from "./fixture.ts";
import type { Comparison } from "./compare.ts";

/**
 * A kind of parity case, provided by the module that implements what the case checks (schedulers by
 * `diffusion/`, the UNet by `models/`, ...). The runner asks each kind in turn whether it handles a fixture.
 *
 * A kind must read every dimension from the fixture's config and tensors, so that other sizes, batch sizes,
 * token counts and seeds than ours run unchanged.
 */
export interface ParityKind {
  /** Short name shown in the runner's output. */
  readonly name: string;
  /** Whether this kind handles the fixture (usually by its `case` name and `config._class_name`). */
  matches(fixture: Fixture): boolean;
  /** Runs the case and returns one comparison per checked output. */
  run(fixture: Fixture): Promise<Comparison[]>;
}
