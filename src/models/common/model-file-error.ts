/** Errors of the model-file layer (CLIP text, VAE, SDXL folders): bad configs and model folders/files that do not fit. */
import { PulidError } from "../../engine/errors.ts";

/**
 * A config or model file that cannot be used: `file` names it, the message says what was wrong and what layout
 * was expected. Codes: `config_invalid`, `model_file_missing`, `model_file_invalid`, `model_weights_mismatch`,
 * `tokenizer_invalid`, `text_too_long`.
 */
export class ModelFileError extends PulidError {
  readonly file: string;
  constructor(code: string, file: string, message: string, options?: { cause?: unknown }) {
    super(code, `${file}: ${message}`, options);
    this.file = file;
  }
}
