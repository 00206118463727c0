import { PulidError } from "../engine/errors.ts";

/** Stable codes for synthetic-world failures. */
export type WorldErrorCode = "bad_size" | "bad_identity" | "bad_attribute" | "bad_split" | "bad_option";

/** Bad input to the synthetic world (size, identity vector, attribute value, split name, option). */
export class WorldError extends PulidError {
  declare readonly code: WorldErrorCode;
  constructor(code: WorldErrorCode, message: string) {
    super(code, message);
  }
}
