/**
 * The explicit list of parity case kinds. A module that implements a case kind exports a `ParityKind`;
 * add it here (an explicit list rather than registration by import side effect).
 */
import type { ParityKind } from "./kind.ts";
import { faceAlignArcfaceKind, scrfdPostprocessKind } from "../face/parity.ts";
import { schedulerParityKind } from "../diffusion/parity.ts";
import { eva02ClipVisionKind } from "../models/eva/parity.ts";
import { pulidIdEncoderV1Kind, pulidIdFormerV11Kind } from "../models/pulid/parity.ts";
import { unetParityKind, pulidUNetIdAttnParityKind } from "../models/unet/parity.ts";
import { clipTextLKind, clipTextBigGKind } from "../models/clip/parity.ts";
import { vaeSdxlTinyKind } from "../models/vae/parity.ts";

export const PARITY_KINDS: readonly ParityKind[] = [
  faceAlignArcfaceKind,
  scrfdPostprocessKind,
  schedulerParityKind,
  eva02ClipVisionKind,
  pulidIdEncoderV1Kind,
  pulidIdFormerV11Kind,
  unetParityKind,
  pulidUNetIdAttnParityKind,
  clipTextLKind,
  clipTextBigGKind,
  vaeSdxlTinyKind,
];
