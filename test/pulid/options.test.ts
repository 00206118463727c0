/** The one options schema: defaults by version and base, one error naming every bad option and its range. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { OptionsError, parseGenerateOptions, resolveGenerateOptions, optionFromText, OPTION_SPECS, type DefaultsContext } from "../../src/pulid/index.ts";

const ctx = (o: Partial<DefaultsContext> = {}): DefaultsContext => ({ version: "v1", lightning: false, nativeSize: 1024, randomSeed: () => 77, ...o });

test("defaults follow the reference apps per version and base", () => {
  const v1 = resolveGenerateOptions({}, ctx());
  assert.deepEqual([v1.steps, v1.cfg, v1.height, v1.width, v1.sampler, v1.mode, v1.numZero, v1.ortho, v1.idScale, v1.seed, v1.num], [4, 1.2, 1024, 768, "dpmpp_2m", "fidelity", 8, "v2", 0.8, 77, 1]);
  const style = resolveGenerateOptions({ mode: "extremely-style" }, ctx());
  assert.deepEqual([style.numZero, style.ortho], [16, "v1"]);
  assert.deepEqual([resolveGenerateOptions({ mode: "extremely-style", numZero: 3, ortho: "off" }, ctx()).numZero, resolveGenerateOptions({ ortho: "off" }, ctx()).ortho], [3, "off"]);
  const light = resolveGenerateOptions({}, ctx({ version: "v1.1", lightning: true }));
  assert.deepEqual([light.steps, light.cfg, light.height, light.width, light.sampler, light.mode, light.numZero, light.ortho], [5, 2, 1152, 896, "dpmpp_sde", null, 20, "v2"]);
  const other = resolveGenerateOptions({}, ctx({ version: "v1.1" }));
  assert.deepEqual([other.steps, other.cfg, other.sampler], [25, 7, "dpmpp_2m"]);
  const world = resolveGenerateOptions({}, ctx({ nativeSize: 64 }));
  assert.deepEqual([world.width, world.height], [64, 64]);
});

test("an out-of-range or mistyped option is named with its flag and range", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ idScale: 7 }, /^idScale \(--id-scale\) must be a number from 0 to 5, got 7$/],
    [{ idScale: -0.1 }, /idScale \(--id-scale\) must be a number from 0 to 5, got -0\.1/],
    [{ steps: 0 }, /steps \(--steps\) must be an integer from 1 to 100, got 0/],
    [{ steps: 2.5 }, /steps \(--steps\) must be an integer from 1 to 100, got 2\.5/],
    [{ width: 100 }, /width \(--width\) must be a multiple of 8 from 64 to 4096, got 100/],
    [{ height: 8192 }, /height \(--height\) must be a multiple of 8 from 64 to 4096, got 8192/],
    [{ mode: "style" }, /mode \(--mode\) must be one of fidelity, extremely-style, got "style"/],
    [{ sampler: "dpm++" }, /sampler \(--sampler\) must be one of euler, euler_ancestral, dpmpp_2m, dpmpp_sde, lcm, ddim, got "dpm\+\+"/],
    [{ ortho: "v3" }, /ortho \(--ortho\) must be one of off, v1, v2, got "v3"/],
    [{ cfg: "high" }, /cfg \(--cfg\) must be a number from 1 to 10, got "high"/],
    [{ seed: -1 }, /seed \(--seed\) must be an integer from 0 to/],
    [{ guidance: 3 }, /unknown option 'guidance' \(known: prompt, negativePrompt, steps/],
  ];
  for (const [o, re] of cases) {
    assert.throws(() => parseGenerateOptions(o), (e: unknown) => e instanceof OptionsError && e.code === "bad_option" && re.test(e.message), JSON.stringify(o));
  }
});

test("every bad option is listed at once", () => {
  try {
    resolveGenerateOptions({ idScale: 9, steps: 0, sampler: "x" }, ctx());
    assert.fail("no error");
  } catch (e) {
    assert.ok(e instanceof OptionsError);
    assert.deepEqual(e.issues.map((i) => i.flag).sort(), ["--id-scale", "--sampler", "--steps"]);
    assert.match(e.message, /^3 bad options:/);
  }
});

test("command-line text is typed by the option's kind; non-numbers are refused with the same message", () => {
  assert.equal(optionFromText("steps", "4"), 4);
  assert.equal(optionFromText("idMix", true), true);
  assert.equal(optionFromText("prompt", "a cat"), "a cat");
  assert.throws(() => optionFromText("idScale", "abc"), /idScale \(--id-scale\) must be a number from 0 to 5, got "abc"/);
  for (const [k, s] of Object.entries(OPTION_SPECS)) assert.ok(s.help && s.range && s.flag, k);
});
