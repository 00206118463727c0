/** The benchmark evaluation of `pulid eval` (issue 15): the paper's tables plus the world's ground-truth measures. */
export { runBench, drawBenchShard, SWEEP_SCALES, type BenchShard, type BenchRunOptions, type BenchResults, type MethodResult } from "./run-bench.ts";
export { METHODS, METHOD_NAMES, resolveMethods, type MethodSpec, type ResolvedMethod } from "./methods.ts";
export { BENCH_NAMES, benchPlan, type BenchName, type PlanOptions } from "./plan.ts";
export { pipelineGenerator, type BenchGenerator, type GenerateJob } from "./generator.ts";
