/**
 * BiSeNet face-parsing config. facexlib hard-codes every width (xinntao/facexlib facexlib/parsing/bisenet.py,
 * resnet.py); they are fields here so tiny test networks can share the code. The published
 * `parsing_bisenet.pth` is {@link BISENET_FACEXLIB}.
 */
import { PulidError } from "../../engine/errors.ts";

export class BiSeNetError extends PulidError {}

export interface BiSeNetConfig {
  /** Output classes (19 for CelebAMask-HQ). */
  num_class: number;
  /** ResNet18 stage widths (64, 128, 256, 512). */
  resnet_widths: readonly [number, number, number, number];
  /** Context-path width (ARM outputs and heads: 128). */
  context_channels: number;
  /** Middle width of the two auxiliary heads (64). */
  aux_mid_channels: number;
}

export const BISENET_FACEXLIB: BiSeNetConfig = { num_class: 19, resnet_widths: [64, 128, 256, 512], context_channels: 128, aux_mid_channels: 64 };

/** A tiny BiSeNet for tests (same structure, narrow widths). */
export const BISENET_TINY: BiSeNetConfig = { num_class: 19, resnet_widths: [4, 8, 8, 16], context_channels: 8, aux_mid_channels: 4 };

/** The CelebAMask-HQ class names of `parsing_bisenet.pth`, by output index. */
export const FACE_PARSING_CLASSES = [
  "background", "skin", "l_brow", "r_brow", "l_eye", "r_eye", "eye_g", "l_ear", "r_ear", "ear_r",
  "nose", "mouth", "u_lip", "l_lip", "neck", "neck_l", "cloth", "hair", "hat",
] as const;
