/**
 * Bad input: every case must throw the typed error class (errors.ts) with
 * `.argument` naming the offending argument and a message that names it too,
 * and must never abort the process (see the child-process test at the end).
 * One test per case.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

import { describe, expect, it } from "vitest";

import {
  buildInfo,
  DTypeError, DeviceError, IndexRangeError, OutOfMemoryError, RlvrError, ShapeError, Tensor, deviceMemory, resetDeviceMemoryPeak, ValueError, aggregate, aggregationWeights, cudaAvailable, gae,
  grpoAdvantage, klPenalty, loadAddon, policyLoss, ppoClipLoss, tokenLogprobs, tokenLogprobsBackward, valueLoss,
} from "../src/index.js";
import { callNative } from "../src/errors.js";
import type { AggMode, KlType } from "../src/index.js";
import { f32, i32, thrown } from "./helpers.js";

type Ctor = abstract new (...a: never[]) => RlvrError;

const CODES = new Map<Ctor, string>([
  [ShapeError, "ERR_RLVR_SHAPE"],
  [DTypeError, "ERR_RLVR_DTYPE"],
  [IndexRangeError, "ERR_RLVR_RANGE"],
  [ValueError, "ERR_RLVR_VALUE"],
  [DeviceError, "ERR_RLVR_DEVICE"],
]);

/** Asserts fn throws `cls` naming `argument` (in .argument and in the message). */
function expectTyped(fn: () => unknown, cls: Ctor, argument: string, messageIncludes?: RegExp | string): RlvrError {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(cls);
  expect(e).toBeInstanceOf(RlvrError);
  const r = e as RlvrError;
  expect(r.argument).toBe(argument);
  expect(r.code).toBe(CODES.get(cls));
  expect(r.name).toBe((cls as unknown as { name: string }).name);
  expect(r.message).toContain(argument);
  if (messageIncludes) expect(r.message).toMatch(messageIncludes);
  return r;
}

const n = 3, v = 5;
const logits = () => Tensor.from(Float32Array.from({ length: n * v }, (_, k) => Math.sin(k)), [n, v]);
const targets = () => i32([0, 4, 2]);
const vec = (x = 0.1) => f32([x - 1, x - 2, x - 3]);
const fwd = () => tokenLogprobs(logits(), targets());
const withValue = (k: number, x: number) => {
  const t = logits();
  (t.data as Float32Array)[k] = x;
  return t;
};

describe("mismatched shapes → ShapeError", () => {
  it("targets [n + 1] for logits [n, v]", () => {
    expectTyped(() => tokenLogprobs(logits(), i32([0, 1, 2, 3])), ShapeError, "targets", /\[3\]/);
  });
  it("logits of rank 1", () => {
    expectTyped(() => tokenLogprobs(f32([1, 2, 3]), i32([0])), ShapeError, "logits", /\[n, v\]/);
  });
  it("logits with v = 0", () => {
    expectTyped(() => tokenLogprobs(Tensor.zeros([2, 0]), i32([0, 0])), ShapeError, "logits");
  });
  it("backward: saved lse of the wrong length", () => {
    const s = fwd();
    expectTyped(() => tokenLogprobsBackward(logits(), targets(), { lse: f32([0, 0]), entropy: s.entropy }, { dlogp: vec() }), ShapeError, "lse");
  });
  it("backward: dlogp of the wrong length", () => {
    expectTyped(() => tokenLogprobsBackward(logits(), targets(), fwd(), { dlogp: f32([1, 2, 3, 4]) }), ShapeError, "dlogp");
  });
  it("ppoClipLoss: oldLogp shorter than logp", () => {
    expectTyped(() => ppoClipLoss(vec(), f32([-1, -2]), vec()), ShapeError, "oldLogp");
  });
  it("klPenalty: refLogp longer than logp", () => {
    expectTyped(() => klPenalty(vec(), f32([-1, -2, -3, -4])), ShapeError, "refLogp");
  });
  it("gae: values [2, 3] for rewards [3, 2]", () => {
    const r = Tensor.zeros([3, 2]);
    expectTyped(() => gae(r, Tensor.zeros([2, 3]), Tensor.zeros([3, 2])), ShapeError, "values");
  });
  it("grpoAdvantage: mask with a different batch than the scores", () => {
    expectTyped(() => grpoAdvantage(f32([1, 0, 1, 0]), { groupSize: 2, mask: Tensor.zeros([3, 5]) }), ShapeError, "mask");
  });
  it("policyLoss: weights [n − 1]", () => {
    expectTyped(() => policyLoss(logits(), targets(), { weights: f32([1, 1]), oldLogp: vec(), advantages: vec() }), ShapeError, "weights");
  });
  it("valueLoss: returns [n − 1]", () => {
    expectTyped(() => valueLoss(vec(), vec(), f32([1, 2]), vec(1)), ShapeError, "returns", /\[3\]/);
  });
  it("valueLoss: weights [1, n] for values [n] (same count, different shape)", () => {
    expectTyped(() => valueLoss(vec(), vec(), vec(), Tensor.zeros([1, 3])), ShapeError, "weights", /\[1, 3\]/);
  });
  it("aggregationWeights: a rank-1 mask", () => {
    expectTyped(() => aggregationWeights(f32([1, 0, 1])), ShapeError, "mask");
  });
  it("aggregate: values and weights of different lengths (TypeScript side)", () => {
    expectTyped(() => aggregate(f32([1, 2, 3]), f32([0.5, 0.5])), ShapeError, "weights", /differ in length/);
  });
  it("reshape to a different element count (TypeScript side)", () => {
    expectTyped(() => f32([1, 2, 3, 4]).reshape([3]), ShapeError, "shape");
  });
  it("Tensor.from: data length disagrees with the shape (TypeScript side)", () => {
    expectTyped(() => Tensor.from(new Float32Array(5), [2, 3]), ShapeError, "shape");
  });
});

describe("wrong dtype → DTypeError", () => {
  it("i32 logits", () => {
    expectTyped(() => tokenLogprobs(Tensor.from(new Int32Array(n * v), [n, v], "i32"), targets()), DTypeError, "logits", /f32, f16 or bf16/);
  });
  it("f32 targets", () => {
    expectTyped(() => tokenLogprobs(logits(), f32([0, 1, 2])), DTypeError, "targets", /i32/);
  });
  it("u8 logits in policyLoss", () => {
    expectTyped(() => policyLoss(Tensor.zeros([n, v], "u8"), targets(), { weights: vec(1) }, { pgCoef: 0 }), DTypeError, "logits");
  });
  it("bf16 scores for grpoAdvantage", () => {
    expectTyped(() => grpoAdvantage(Tensor.zeros([4], "bf16"), { groupSize: 2 }), DTypeError, "scores");
  });
  it("u8 mask for aggregationWeights", () => {
    expectTyped(() => aggregationWeights(Tensor.zeros([2, 2], "u8")), DTypeError, "mask");
  });
  it("f16 logp for ppoClipLoss", () => {
    expectTyped(() => ppoClipLoss(Tensor.zeros([3], "f16"), vec(), vec()), DTypeError, "logp");
  });
  it("i32 dentropy for the backward", () => {
    expectTyped(() => tokenLogprobsBackward(logits(), targets(), fwd(), { dentropy: i32([1, 1, 1]) }), DTypeError, "dentropy");
  });
  it("f16 values for valueLoss", () => {
    expectTyped(() => valueLoss(Tensor.zeros([3], "f16"), vec(), vec(), vec(1)), DTypeError, "values", /f32/);
  });
  it("i32 weights for valueLoss", () => {
    expectTyped(() => valueLoss(vec(), vec(), vec(), i32([1, 1, 1])), DTypeError, "weights");
  });
  it("a typed array that does not match the dtype (TypeScript side)", () => {
    expectTyped(() => Tensor.from(new Float32Array(4), [4], "i32"), DTypeError, "data");
  });
});

describe("token id out of range → IndexRangeError", () => {
  it("a negative token id", () => {
    expectTyped(() => tokenLogprobs(logits(), i32([0, -1, 2])), IndexRangeError, "targets", /-1 at index 1/);
  });
  it("token id = V", () => {
    expectTyped(() => tokenLogprobs(logits(), i32([0, 1, v])), IndexRangeError, "targets", new RegExp(`${v} at index 2.*\\[0, ${v}\\)`));
  });
  it("token id = V in the backward", () => {
    expectTyped(() => tokenLogprobsBackward(logits(), i32([v, 0, 0]), fwd(), { dlogp: vec() }), IndexRangeError, "targets");
  });
  it("token id = V in policyLoss", () => {
    expectTyped(() => policyLoss(logits(), i32([0, v + 7, 0]), { weights: vec(1) }, { pgCoef: 0 }), IndexRangeError, "targets");
  });
});

describe("non-finite logits → ValueError naming logits and the row", () => {
  it("NaN logits (f32)", () => {
    expectTyped(() => tokenLogprobs(withValue(2 * v + 1, NaN), targets()), ValueError, "logits", /row 2/);
  });
  it("NaN logits (bf16)", () => {
    const t = Tensor.from(new Uint16Array(n * v), [n, v], "bf16");
    (t.data as Uint16Array)[v + 3] = 0x7fc0;
    expectTyped(() => tokenLogprobs(t, targets()), ValueError, "logits", /row 1/);
  });
  it("NaN logits in policyLoss", () => {
    expectTyped(() => policyLoss(withValue(0, NaN), targets(), { weights: vec(1) }, { pgCoef: 0 }), ValueError, "logits", /row 0/);
  });
  it("+inf logits", () => {
    expectTyped(() => tokenLogprobs(withValue(v + 2, Infinity), targets()), ValueError, "logits", /row 1/);
  });
  it("an all -inf row", () => {
    const t = logits();
    (t.data as Float32Array).fill(-Infinity, 2 * v, 3 * v);
    expectTyped(() => tokenLogprobs(t, targets()), ValueError, "logits", /row 2/);
  });
  it("reports the first bad row when several are bad (long rows, threaded)", () => {
    const rows = 64, cols = 4096;
    const t = Tensor.from(new Float32Array(rows * cols), [rows, cols]);
    (t.data as Float32Array)[50 * cols + 7] = NaN;
    (t.data as Float32Array)[17 * cols + 4000] = Infinity;
    expectTyped(() => tokenLogprobs(t, Tensor.zeros([rows], "i32")), ValueError, "logits", /row 17\b/);
  });
});

describe("groups → IndexRangeError", () => {
  it("empty groups (groupSize 0)", () => {
    expectTyped(() => grpoAdvantage(f32([1, 0, 1, 0]), { groupSize: 0 }), IndexRangeError, "groupSize", /positive integer/);
  });
  it("a group size that does not divide the batch", () => {
    expectTyped(() => grpoAdvantage(f32([1, 0, 1, 0, 1, 1]), { groupSize: 4 }), IndexRangeError, "groupSize", /does not divide/);
  });
  it("a non-integer group size", () => {
    expectTyped(() => grpoAdvantage(f32([1, 0, 1, 0]), { groupSize: 1.5 }), IndexRangeError, "groupSize");
  });
});

describe("invalid values → ValueError", () => {
  it("a mask value other than 0 / 1 (aggregationWeights)", () => {
    expectTyped(() => aggregationWeights(Tensor.from(Float32Array.from([1, 0.5, 0, 1]), [2, 2])), ValueError, "mask", /0 or 1/);
  });
  it("a mask value other than 0 / 1 (gae)", () => {
    const z = Tensor.zeros([1, 3]);
    expectTyped(() => gae(z, z, Tensor.from(Float32Array.from([1, 2, 0]), [1, 3])), ValueError, "mask");
  });
  it("a mask value other than 0 / 1 (grpoAdvantage token broadcast)", () => {
    expectTyped(() => grpoAdvantage(f32([1, 0]), { groupSize: 2, mask: Tensor.from(Float32Array.from([1, -1, 0, 1]), [2, 2]) }), ValueError, "mask");
  });
  it("temperature 0", () => {
    expectTyped(() => tokenLogprobs(logits(), targets(), { temperature: 0 }), ValueError, "temperature", /> 0/);
  });
  it("negative temperature (backward and policyLoss)", () => {
    expectTyped(() => tokenLogprobsBackward(logits(), targets(), fwd(), { dlogp: vec() }, { temperature: -1 }), ValueError, "temperature");
    expectTyped(() => policyLoss(logits(), targets(), { weights: vec(1) }, { pgCoef: 0, temperature: -0.5 }), ValueError, "temperature");
  });
  it("a non-finite temperature", () => {
    expectTyped(() => tokenLogprobs(logits(), targets(), { temperature: NaN }), ValueError, "temperature");
  });
  it("an unknown klType (klPenalty and policyLoss)", () => {
    expectTyped(() => klPenalty(vec(), vec(), "k9" as KlType), ValueError, "klType", /k9/);
    expectTyped(() => policyLoss(logits(), targets(), { weights: vec(1), refLogp: vec() }, { pgCoef: 0, klCoef: 0.1, klType: "reverse" as KlType }), ValueError, "klType");
  });
  it("an unknown aggregation mode", () => {
    expectTyped(() => aggregationWeights(Tensor.zeros([2, 2]), "seq-sum" as AggMode), ValueError, "mode", /seq-sum/);
  });
  it("dualClip in (0, 1]: 0.5 and exactly 1", () => {
    expectTyped(() => ppoClipLoss(vec(), vec(), vec(), { dualClip: 0.5 }), ValueError, "dualClip", /> 1/);
    expectTyped(() => ppoClipLoss(vec(), vec(), vec(), { dualClip: 1 }), ValueError, "dualClip");
    expectTyped(() => policyLoss(logits(), targets(), { weights: vec(1), oldLogp: vec(), advantages: vec() }, { dualClip: 1 }), ValueError, "dualClip");
  });
  it("clipLow outside [0, 1)", () => {
    expectTyped(() => ppoClipLoss(vec(), vec(), vec(), { clipLow: 1 }), ValueError, "clipLow");
  });
  it("missing oldLogp when pgCoef != 0", () => {
    expectTyped(() => policyLoss(logits(), targets(), { weights: vec(1), advantages: vec() }), ValueError, "oldLogp", /pgCoef/);
  });
  it("missing advantages when pgCoef != 0", () => {
    expectTyped(() => policyLoss(logits(), targets(), { weights: vec(1), oldLogp: vec() }), ValueError, "advantages", /pgCoef/);
  });
  it("missing refLogp when klCoef != 0", () => {
    expectTyped(() => policyLoss(logits(), targets(), { weights: vec(1) }, { pgCoef: 0, klCoef: 0.001 }), ValueError, "refLogp", /klCoef/);
  });
  it("NaN in oldLogp / scores / rewards / upstream dlogp", () => {
    expectTyped(() => ppoClipLoss(vec(), f32([0, NaN, 0]), vec()), ValueError, "oldLogp", /index 1/);
    expectTyped(() => grpoAdvantage(f32([1, NaN]), { groupSize: 2 }), ValueError, "scores");
    expectTyped(() => gae(Tensor.from(Float32Array.from([Infinity]), [1, 1]), Tensor.zeros([1, 1]), Tensor.zeros([1, 1])), ValueError, "rewards");
    expectTyped(() => tokenLogprobsBackward(logits(), targets(), fwd(), { dlogp: f32([0, 0, NaN]) }), ValueError, "dlogp");
  });
  it("valueLoss: clip 0 and clip < 0", () => {
    expectTyped(() => valueLoss(vec(), vec(), vec(), vec(1), { clip: 0 }), ValueError, "clip", /> 0/);
    expectTyped(() => valueLoss(vec(), vec(), vec(), vec(1), { clip: -0.2 }), ValueError, "clip");
  });
  it("valueLoss: a non-finite clip (NaN, +inf)", () => {
    expectTyped(() => valueLoss(vec(), vec(), vec(), vec(1), { clip: NaN }), ValueError, "clip", /finite/);
    expectTyped(() => valueLoss(vec(), vec(), vec(), vec(1), { clip: Infinity }), ValueError, "clip");
  });
  it("valueLoss: a clip that is 0 or +inf in fp32 (1e-50, 1e39)", () => {
    expectTyped(() => valueLoss(vec(), vec(), vec(), vec(1), { clip: 1e-50 }), ValueError, "clip", /fp32/);
    expectTyped(() => valueLoss(vec(), vec(), vec(), vec(1), { clip: 1e39 }), ValueError, "clip", /fp32/);
  });
  it("valueLoss: NaN in values", () => {
    expectTyped(() => valueLoss(f32([0, NaN, 0]), vec(), vec(), vec(1)), ValueError, "values", /index 1/);
  });
  it("valueLoss: +inf in oldValues", () => {
    expectTyped(() => valueLoss(vec(), f32([0, 0, Infinity]), vec(), vec(1)), ValueError, "oldValues", /index 2/);
  });
  it("valueLoss: NaN in returns", () => {
    expectTyped(() => valueLoss(vec(), vec(), f32([NaN, 0, 0]), vec(1)), ValueError, "returns", /index 0/);
  });
  it("valueLoss: NaN in weights", () => {
    expectTyped(() => valueLoss(vec(), vec(), vec(), f32([0, NaN, 0])), ValueError, "weights", /index 1/);
  });
  it("gamma outside [0, 1]", () => {
    const z = Tensor.zeros([1, 2]);
    expectTyped(() => gae(z, z, z, { gamma: 1.5 }), ValueError, "gamma");
  });
});

describe("an allocation failure in the addon (ERR_RLVR_OUT_OF_MEMORY, host or device)", () => {
  it("becomes OutOfMemoryError, an RlvrError, keeping the message", () => {
    // what the binding throws when malloc / new / cudaMalloc fails (errors.cpp, async_call.cpp)
    const native = Object.assign(new Error("cudaMalloc(1024 bytes) on device 0: out of memory"), { code: "ERR_RLVR_OUT_OF_MEMORY", argument: "" });
    const e = thrown(() => callNative(() => { throw native; }));
    expect(e).toBeInstanceOf(OutOfMemoryError);
    expect(e).toBeInstanceOf(RlvrError);
    expect((e as RlvrError).code).toBe("ERR_RLVR_OUT_OF_MEMORY");
    expect((e as RlvrError).argument).toBeUndefined();
    expect((e as Error).message).toMatch(/out of memory/);
  });
});

describe.skipIf(cudaAvailable())("device memory accounting without a device", () => {
  it("deviceMemory / resetDeviceMemoryPeak throw DeviceError; a bad index is a ValueError", () => {
    expectTyped(() => deviceMemory(0), DeviceError, "device");
    expectTyped(() => resetDeviceMemoryPeak(0), DeviceError, "device");
    expectTyped(() => deviceMemory(-1), ValueError, "device", /non-negative integer/);
    expectTyped(() => deviceMemory(1.5), ValueError, "device");
  });
});

describe.skipIf(cudaAvailable())("a cuda tensor without CUDA → DeviceError", () => {
  it("Tensor.zeros on cuda:0", () => {
    expectTyped(() => Tensor.zeros([4], "f32", "cuda:0"), DeviceError, "device", /cuda:0 is not available/);
  });
  it("moving a cpu tensor to cuda:0", () => {
    expectTyped(() => f32([1, 2]).to("cuda:0"), DeviceError, "device");
  });
  it("a kernel given a tensor that claims to live on cuda:0 (the API allocates its outputs there first)", () => {
    const fake = { dtype: "f32", shape: [n, v], device: "cuda:0" } as unknown as Tensor;
    // a CPU-only build says so; a CUDA build on a machine without a device (CI) counts 0 devices
    expectTyped(() => tokenLogprobs(fake, targets()), DeviceError, "device", buildInfo().cudaCompiled ? /0 CUDA device\(s\) found/ : /without CUDA/);
  });
  it("the binding given a cuda:0 logits descriptor with cpu outputs", () => {
    const fake = { dtype: "f32", shape: [n, v], device: "cuda:0" } as unknown as Tensor;
    const z = () => Tensor.zeros([n]);
    expectTyped(() => callNative(() => loadAddon().logprobForward({ logits: fake, targets: targets(), temperature: 1, logp: z(), entropy: z(), lse: z() })), DeviceError, "logits", /GpuBuffer/);
  });
  it("valueLoss: the binding given a cuda:0 values descriptor with cpu inputs", () => {
    const fake = { dtype: "f32", shape: [n], device: "cuda:0" } as unknown as Tensor;
    expectTyped(() => callNative(() => loadAddon().valueLoss({ values: fake, oldValues: vec(), returns: vec(), weights: vec(1), clip: 0.5 })), DeviceError, "values", /GpuBuffer/);
  });
  it("an invalid device string", () => {
    expectTyped(() => Tensor.zeros([2], "f32", "gpu" as "cpu"), DeviceError, "device");
  });
});

describe("the process never aborts", () => {
  it("a child process feeding the raw addon malformed calls exits normally with every call rejected as a typed error", async () => {
    const req = createRequire(import.meta.url);
    const addonPath = process.env.RLVR_ADDON_PATH ?? join(dirname(req.resolve("@rlvr/addon/package.json")), "build", "Release", "rlvr_native.node");
    expect(existsSync(addonPath)).toBe(true);
    const script = `
      const a = require(${JSON.stringify(addonPath)});
      const T = (data, shape, dtype, device = "cpu") => ({ dtype, shape, device, data });
      const f = (k) => T(new Float32Array(k), [k], "f32");
      const calls = [
        () => a.logprobForward(),
        () => a.logprobForward(42),
        () => a.logprobForward({}),
        () => a.logprobForward({ logits: T(new Float32Array(6), [2, 3], "f32"), targets: T(new Int32Array([0, 9]), [2], "i32"), logp: f(2), entropy: f(2), lse: f(2) }),
        () => a.logprobForward({ logits: T(new Float32Array(6), [2, 3], "f32"), targets: T(new Int32Array(2), [2], "i32"), logp: f(1), entropy: f(2), lse: f(2) }),
        () => a.logprobForward({ logits: T(new Float32Array(5), [2, 3], "f32"), targets: T(new Int32Array(2), [2], "i32"), logp: f(2), entropy: f(2), lse: f(2) }),
        () => a.logprobForward({ logits: T(new Float32Array(6), [2, -3], "f32"), targets: T(new Int32Array(2), [2], "i32"), logp: f(2), entropy: f(2), lse: f(2) }),
        () => a.logprobForward({ logits: { dtype: "f64", shape: [1, 1], data: new Float64Array(1) }, targets: T(new Int32Array(1), [1], "i32"), logp: f(1), entropy: f(1), lse: f(1) }),
        () => a.logprobForward({ logits: T(new Float32Array([NaN]), [1, 1], "f32"), targets: T(new Int32Array(1), [1], "i32"), logp: f(1), entropy: f(1), lse: f(1) }),
        () => a.logprobBackward({ logits: T(new Float32Array(6), [2, 3], "f32"), targets: T(new Int32Array(2), [2], "i32"), lse: f(2), entropy: f(2), dlogits: T(new Float32Array(6), [3, 2], "f32") }),
        () => a.grpoAdvantage({ scores: f(4), groupSize: 0, advantages: f(4) }),
        () => a.grpoAdvantage({ scores: f(4), groupSize: 3, advantages: f(4) }),
        () => a.grpoAdvantage({ scores: f(4), groupSize: "2", advantages: f(4) }),
        () => a.ppoClipLoss({ logp: f(2), oldLogp: f(2), advantages: f(2), loss: f(2), dlogp: f(2), dualClip: 0.5 }),
        () => a.klPenalty({ logp: f(2), refLogp: f(2), kl: f(2), klType: 7 }),
        () => a.aggregationWeights({ mask: T(new Float32Array([3]), [1, 1], "f32"), weights: T(new Float32Array(1), [1, 1], "f32") }),
        () => a.gae({ rewards: T(new Float32Array(1), [1, 1], "f32") }),
        () => a.policyLoss({ logits: T(new Float32Array(6), [2, 3], "f32"), targets: T(new Int32Array(2), [2], "i32"), weights: f(2), logp: f(2), entropy: f(2) }),
        () => a.valueLoss({ values: f(2), oldValues: f(2), returns: f(3), weights: f(2), clip: 0.5 }),
        () => a.logprobForward({ logits: T(undefined, [1, 1], "f32", "cuda:0"), targets: T(new Int32Array(1), [1], "i32"), logp: f(1), entropy: f(1), lse: f(1) }),
        () => a.logprobForward({ logits: T(new Float32Array(1), [1, 1], "f32", "cuda:x"), targets: T(new Int32Array(1), [1], "i32"), logp: f(1), entropy: f(1), lse: f(1) }),
        () => new a.GpuBuffer(-1, 16),
        () => new a.GpuBuffer(0, -5),
        () => new a.GpuBuffer(),
      ];
      let typed = 0;
      for (const c of calls) {
        try { c(); console.log("NO ERROR"); } catch (e) { if (typeof e.code === "string" && e.code.startsWith("ERR_RLVR_")) typed++; else console.log("untyped:", e && e.message); }
      }
      console.log("typed " + typed + " of " + calls.length);
    `;
    // asynchronous, so the worker's event loop stays free while the child runs
    const r = await new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((res) => {
      execFile(process.execPath, ["-e", script], { encoding: "utf8", timeout: 60_000 }, (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; signal?: string }) | null;
        res({ code: e ? (typeof e.code === "number" ? e.code : -1) : 0, signal: e?.signal ?? null, stdout, stderr });
      });
    });
    expect(r.signal).toBeNull();
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n").at(-1)).toBe("typed 24 of 24");
  });
});

// Issue 17 (6): the element count of a descriptor's shape used to be an unchecked int64 product,
// so [2^31, 2^31] of f32 (2^64 bytes, wrapping to 0) passed the size check against an empty
// array and the kernel crashed the process; [2^32, 2^32] wrapped to 0 elements and "succeeded".
// Run in a child so the crash before the fix fails this test instead of killing the worker.
describe("shapes whose element count or byte size overflows int64 → ShapeError naming the tensor", () => {
  const cases: Array<[string, number[], string]> = [
    ["[2^31, 2^31] f32 logits with a 0-byte array", [2 ** 31, 2 ** 31], "new Float32Array(0)"],
    ["[2^32, 2^32] f32 logits with a 0-byte array", [2 ** 32, 2 ** 32], "new Float32Array(0)"],
    ["[2^50, 2^14] (2^64 elements)", [2 ** 50, 2 ** 14], "new Float32Array(0)"],
    ["[2^52, 2^9] (2^61 elements: fits, but 2^63 bytes of f32 do not)", [2 ** 52, 2 ** 9], "new Float32Array(0)"],
    ["[2^21, 2^21, 2^21] (three entries)", [2 ** 21, 2 ** 21, 2 ** 21], "new Float32Array(0)"],
    ["[2^31, 2^31] with a 16-byte array", [2 ** 31, 2 ** 31], "new Float32Array(4)"],
  ];
  const execFileAsync = promisify(execFile);
  it.each(cases)("%s", async (_label, shape, data) => {
    const req = createRequire(import.meta.url);
    const addonPath = process.env.RLVR_ADDON_PATH ?? join(dirname(req.resolve("@rlvr/addon/package.json")), "build", "Release", "rlvr_native.node");
    const script = `
      const a = require(${JSON.stringify(addonPath)});
      const T = (data, shape, dtype) => ({ dtype, shape, device: "cpu", data });
      const f = (k) => T(new Float32Array(k), [k], "f32");
      try {
        a.logprobForward({ logits: T(${data}, ${JSON.stringify(shape)}, "f32"), targets: T(new Int32Array(2), [2], "i32"), temperature: 1, logp: f(2), entropy: f(2), lse: f(2) });
        console.log(JSON.stringify({ ok: true }));
      } catch (e) { console.log(JSON.stringify({ code: e.code, argument: e.argument, message: e.message })); }
    `;
    // asynchronous, so the worker's event loop stays free; a crash (the old behaviour) rejects
    const r = await execFileAsync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 60_000 });
    const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { code?: string; argument?: string; message?: string };
    expect(out.code).toBe("ERR_RLVR_SHAPE");
    expect(out.argument).toBe("logits");
    expect(out.message).toMatch(/logits/);
    expect(out.message).toMatch(/overflows|bytes/);
  });
  it("an entry of 0 keeps the tensor empty however large the others are (no false overflow)", () => {
    const e = thrown(() => callNative(() => loadAddon().logprobForward({
      logits: { dtype: "f32", shape: [0, 2 ** 52, 2 ** 52], device: "cpu", data: new Float32Array(0) },
      targets: { dtype: "i32", shape: [2], device: "cpu", data: new Int32Array(2) }, temperature: 1,
      logp: Tensor.zeros([2]), entropy: Tensor.zeros([2]), lse: Tensor.zeros([2]),
    } as never)));
    // the descriptor is accepted; the kernel then rejects logits' shape against targets [2]
    expect(e).toBeInstanceOf(ShapeError);
    expect((e as RlvrError).message).not.toMatch(/overflows/);
  });
});
