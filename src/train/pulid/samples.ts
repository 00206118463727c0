/**
 * The sample grid of a PuLID run: for a fixed set of ID conditions and prompts (the data source's draw at a
 * fixed step far from training's), the 4-step student samples without and with the ID from the same noise, so
 * the grid shows what the adapter adds and what it disturbs. Rows: samples; columns: without ID, with ID.
 *
 * One forward program is compiled per run; the adapter's weights are fed at each call, so the grid follows
 * training without re-tracing.
 */
import sharp from "sharp";
import { input, type Tensor } from "../../engine/tensor.ts";
import * as ops from "../../engine/ops.ts";
import { compile, type Program } from "../../engine/compile.ts";
import { HostTensor } from "../../engine/host-tensor.ts";
import { writeFileAtomic } from "../../engine/atomic-write.ts";
import { trainingParamMode } from "../../nn/train-step.ts";
import type { PulidAdapter } from "./adapter.ts";
import type { PulidFrozen } from "./stage-graph.ts";
import { traceRollout } from "./lightning-rollout.ts";
import { orderFeeds, type StageData } from "./stage-data.ts";

/** The data step the grid draws its conditions from (never reached by training). */
export const SAMPLE_DATA_STEP = 1_000_000_007;

/** Which rollout a {@link RolloutImages} program draws: the alignment pair's inputs or the ID-loss branch's. */
export type RolloutFeeds = "align" | "id";

/**
 * Forward program: ID features + prompt + noise -> the 4-step student's decoded images [B, 3, H, W] in [-1, 1],
 * with the ID (and, with `withoutId`, first without it from the same noise). It reads the stage data's
 * `<feeds>_noise`, `<feeds>_context`, `<feeds>_pooled`. The adapter's weights are fed at each call, so the
 * images follow training without re-tracing.
 */
export class RolloutImages {
  private readonly program: Program;
  private readonly names: string[];

  constructor(adapter: PulidAdapter, f: PulidFrozen, readonly rows: number, opts: { withoutId: boolean; feeds: RolloutFeeds; name?: string }) {
    const B = rows;
    const names: string[] = [];
    const inputs: Tensor[] = [];
    const add = (name: string, shape: readonly number[]) => {
      names.push(name);
      const t = input(name, shape);
      inputs.push(t);
      return t;
    };
    const enc = adapter.id_adapter.config;
    const idCond = add("id_cond", [B, enc.width]);
    const vit = Array.from({ length: enc.num_vit_layers ?? 5 }, (_, i) => add(`vit_${i}`, [B, f.vitTokens, enc.vit_dim]));
    const noise = add(`${opts.feeds}_noise`, [B, ...f.latent]);
    const ctx = add(`${opts.feeds}_context`, [B, f.contextLength, f.contextDim]);
    const pool = add(`${opts.feeds}_pooled`, [B, f.pooledDim]);
    const timeIds = add("time_ids", [B, 6]);
    const select = adapter.selector({ embedding: adapter.id_adapter.call(idCond, vit), scale: 1, mode: "normal" });
    const image = (withId: boolean) => {
      const eps = (x: Tensor, t: number) =>
        f.student.call(x, ops.broadcastTo(ops.asTensor(t), [B]), ctx, { added: { textEmbeds: pool, timeIds }, ...(withId ? { select } : {}) });
      const latent = traceRollout(f.plan, noise, eps).latent;
      return f.vae.decode(f.vae.latentsForDecode(latent));
    };
    this.names = names;
    this.program = compile({
      inputs,
      outputs: opts.withoutId ? [image(false), image(true)] : [image(true)],
      paramMode: trainingParamMode,
      name: opts.name ?? "pulid_rollout_images",
    });
  }

  /** [without ID,] with ID, for a draw of the stage data with `rows` samples. */
  run(data: StageData): Promise<HostTensor[]> {
    return this.program.run(orderFeeds(this.names, data));
  }

  dispose(): Promise<void> {
    return this.program.dispose();
  }
}

/** The grid of a run: rows of fixed conditions; columns without / with the ID (same noise). */
export class SampleGrid {
  private readonly images: RolloutImages;

  constructor(adapter: PulidAdapter, f: PulidFrozen, readonly rows: number) {
    this.images = new RolloutImages(adapter, f, rows, { withoutId: true, feeds: "align", name: "pulid_samples" });
  }

  /** Writes the grid PNG (rows x [without, with]) for `data` (a source's draw with `rows` samples). */
  async write(path: string, data: StageData): Promise<void> {
    const [without, withId] = await this.images.run(data);
    const [, , H, W] = without!.shape as [number, number, number, number];
    const px = new Uint8Array(this.rows * H * 2 * W * 3);
    const put = (t: HostTensor, r: number, col: number) => {
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          for (let c = 0; c < 3; c++) {
            const v = t.get(((r * 3 + c) * H + y) * W + x);
            px[((r * H + y) * 2 * W + col * W + x) * 3 + c] = Math.round(Math.min(1, Math.max(0, (v + 1) / 2)) * 255);
          }
        }
      }
    };
    for (let r = 0; r < this.rows; r++) {
      put(without!, r, 0);
      put(withId!, r, 1);
    }
    const png = await sharp(Buffer.from(px), { raw: { width: 2 * W, height: this.rows * H, channels: 3 } }).png().toBuffer();
    await writeFileAtomic(path, png);
  }

  dispose(): Promise<void> {
    return this.images.dispose();
  }
}
