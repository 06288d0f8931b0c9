// LiteRT (npm @litertjs/core: XNNPACK in WebAssembly, CPU, one thread) images/s on .tflite models, for
// `sparkquant bench-interpreter --litert` (deploy/bench/litert/README.md). Benchmark-only: not part of the build.
//
//   node bench.mjs --rows ROWS.bin --model NAME=FILE.tflite [--model ...] [--repeat 5] [--serve]
//
// ROWS.bin (written by bench-interpreter): magic "SQRW", int32 LE element type (1 = float32), int32 LE rank, rank
// int32 LE dims (dim 0 = rows), then the rows in that type, little-endian, row-major (NHWC images).
// Each model runs every row, one image per call (its declared batch of 1), as an application would.
// Output, one line per timed pass over all rows (key=value, space separated):
//   litert model=NAME images=N seconds=S images_per_s=R cpu_seconds=C images_per_cpu_s=Q argmax=a,b,c,...
// (C: the Node process's user + system CPU time during the pass, as bench-interpreter's per-CPU-second figures)
// Two untimed warm-up passes per model, then a "ready ..." line. Without --serve: --repeat passes, and one line per
// model with the best. With --serve: every stdin line "run NAME" times one pass and answers one line, so that
// the caller interleaves these passes with its own ("quit" or end of input stops).
import {readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {createRequire} from 'node:module';
import {createInterface} from 'node:readline';
import {fileURLToPath} from 'node:url';
import vm from 'node:vm';

const here = dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const args = {models: [], repeat: 5, serve: false, rows: null};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--rows') args.rows = argv[++i];
    else if (a === '--model') {
      const spec = argv[++i];
      const eq = spec.indexOf('=');
      if (eq < 1) throw new Error(`--model takes NAME=FILE.tflite, got ${spec}`);
      args.models.push({name: spec.slice(0, eq), file: spec.slice(eq + 1)});
    } else if (a === '--repeat') args.repeat = Number(argv[++i]);
    else if (a === '--serve') args.serve = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!args.rows || args.models.length === 0 || !(args.repeat >= 1)) {
    throw new Error('usage: node bench.mjs --rows ROWS.bin --model NAME=FILE.tflite [--model ...] [--repeat N] [--serve]');
  }
  return args;
}

function readRows(file) {
  const buf = readFileSync(file);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.toString('latin1', 0, 4) !== 'SQRW') throw new Error(`${file}: not a SQRW rows file`);
  const type = view.getInt32(4, true);
  const rank = view.getInt32(8, true);
  const dims = [];
  for (let d = 0; d < rank; d++) dims.push(view.getInt32(12 + 4 * d, true));
  if (type !== 1) throw new Error(`${file}: element type ${type}; LiteRT.js takes float32, int32 or uint8 inputs`);
  const offset = 12 + 4 * rank;
  const count = dims.reduce((x, y) => x * y, 1);
  // copy: the data offset need not be 4-byte aligned inside the Buffer's pool
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = view.getFloat32(offset + 4 * i, true);
  return {dims, data};
}

// @litertjs/core loads its Emscripten module as a browser <script> (or importScripts in a worker) that sets the global
// ModuleFactory. Under Node the same file is CommonJS-style code that detects Node itself (it reads the .wasm next to
// it with node:fs), so it is evaluated here with require in scope and its factory published on `self`.
function installNodeScriptLoader() {
  globalThis.self ??= globalThis;
  globalThis.importScripts = (url) => {
    const path = url.toString().replace(/^file:\/\//, '');
    const code = readFileSync(path, 'utf8');
    const wrapper = vm.runInThisContext(
        `(function (require, module, exports, __filename, __dirname) {${code}\nreturn ModuleFactory;})`,
        {filename: path});
    const module = {exports: {}};
    globalThis.ModuleFactory = wrapper(createRequire(path), module, module.exports, path, dirname(path));
  };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  installNodeScriptLoader();
  const litert = await import('@litertjs/core');
  const wasmDir = join(here, 'node_modules', '@litertjs', 'core', 'wasm') + '/';
  // No WebGPU under Node: the default environment's GPU probe fails and warns; silence that one warning.
  const warn = console.warn;
  console.warn = () => {};
  try {
    await litert.loadLiteRt(wasmDir); // no threads option: the single-threaded build
  } finally {
    console.warn = warn;
  }
  const relaxedSimd = await litert.supportsFeature('relaxedSimd'); // which build loadLiteRt picked
  const rows = readRows(args.rows);
  const n = rows.dims[0];
  const item = rows.data.length / n;
  const models = new Map();
  for (const m of args.models) {
    const compiled = await litert.loadAndCompile(new Uint8Array(readFileSync(m.file)),
        {accelerator: 'wasm', cpuOptions: {numThreads: 1}});
    const input = compiled.getInputDetails()[0];
    const shape = Array.from(input.shape);
    const perImage = shape.slice(1).reduce((x, y) => x * y, 1);
    if (input.dtype !== 'float32' || perImage !== item || shape[0] !== 1) {
      throw new Error(`${m.file}: input ${input.dtype} ${JSON.stringify(shape)}, rows are float32 ${JSON.stringify(rows.dims)}`);
    }
    models.set(m.name, {compiled, shape});
  }

  // One pass: every row as one call, input copied in and output read out as an application would.
  async function pass(name) {
    const {compiled, shape} = models.get(name);
    const argmax = new Array(n);
    const cpu0 = process.cpuUsage(); // the process's CPU time: on a busy machine, a figure the load does not cut
    const start = process.hrtime.bigint();
    for (let r = 0; r < n; r++) {
      const input = new litert.Tensor(rows.data.subarray(r * item, (r + 1) * item), shape);
      const outputs = await compiled.run([input]);
      input.delete();
      const out = outputs[0].toTypedArray();
      let best = 0;
      for (let k = 1; k < out.length; k++) if (out[k] > out[best]) best = k;
      argmax[r] = best;
      for (const o of outputs) o.delete();
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    return {name, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, argmax};
  }
  const line = (p) => `litert model=${p.name} images=${n} seconds=${p.seconds.toFixed(6)}`
      + ` images_per_s=${(n / p.seconds).toFixed(1)} cpu_seconds=${p.cpuSeconds.toFixed(6)}`
      + ` images_per_cpu_s=${(n / p.cpuSeconds).toFixed(1)} argmax=${p.argmax.join(',')}`;

  // V8 compiles wasm lazily and tiers up hot functions: two untimed passes per model before any timing
  for (const name of models.keys()) await pass(name);
  for (const name of models.keys()) await pass(name);
  const version = JSON.parse(readFileSync(join(here, 'node_modules', '@litertjs', 'core', 'package.json'))).version;
  const build = relaxedSimd ? 'relaxed-simd' : 'compat(no-relaxed-simd)';
  console.log(`ready litert=@litertjs/core@${version} node=${process.version} wasm=${build} threads=1 images=${n}`
      + ` models=${[...models.keys()].join(',')}`);
  if (args.serve) {
    const rl = createInterface({input: process.stdin});
    for await (const cmd of rl) {
      const [verb, name] = cmd.trim().split(/\s+/);
      if (verb === 'quit') break;
      if (verb !== 'run' || !models.has(name)) {
        console.log(`error unknown command: ${cmd}`);
        continue;
      }
      console.log(line(await pass(name)));
    }
    rl.close();
  } else {
    for (const name of models.keys()) {
      let best = null;
      for (let k = 0; k < args.repeat; k++) {
        const p = await pass(name);
        if (!best || p.seconds < best.seconds) best = p;
      }
      console.log(line(best));
    }
  }
  for (const {compiled} of models.values()) compiled.delete();
}

main().then(() => process.exit(0), (e) => {
  console.error(`bench.mjs: ${e.stack ?? e}`);
  process.exit(1);
});
