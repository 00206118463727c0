/** ProgramCache: one build per key, and dispose releases each program once and forgets it. */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Program } from "../../src/engine/compile.ts";
import { ProgramCache } from "../../src/pulid/program-cache.ts";

test("ProgramCache builds once per key, disposes every program once, and rebuilds after dispose", async () => {
  const disposed: string[] = [];
  const built: string[] = [];
  const fake = (name: string) => {
    built.push(name);
    return { dispose: async () => void disposed.push(name) } as unknown as Program;
  };
  const cache = new ProgramCache<string>();
  const a = cache.get("a", () => fake("a"));
  assert.equal(cache.get("a", () => fake("a again")), a);
  cache.get("b", () => fake("b"));
  assert.deepEqual(built, ["a", "b"]);
  assert.equal(cache.size, 2);
  await cache.dispose();
  assert.deepEqual(disposed.sort(), ["a", "b"]);
  assert.equal(cache.size, 0);
  assert.notEqual(cache.get("a", () => fake("a2")), a);
  assert.deepEqual(built, ["a", "b", "a2"]);
});
