// Test helper: runs an ONNX model in onnxruntime (npm onnxruntime-node, CPU), an independent
// runtime for the studio's ONNX exports (tests/engine/test_onnx_file.cpp starts it).
//
//   node onnxruntime_runner.js MODEL.onnx OPT IN.npy... -- OUT.npy...
//
// OPT: "all" runs onnxruntime's graph optimizations (QDQ groups fused into QLinearConv /
// QLinearMatMul / ... integer kernels, as deployed), "disabled" runs every node as written
// (float operators between exact QuantizeLinear / DequantizeLinear).
// Inputs are float32 .npy files, converted to the model input's element type (int8 inputs
// hold whole numbers). Outputs are written as float32 .npy whatever their type.
// With QAT_ORT_OPTIMIZED_MODEL=path in the environment, the optimized graph is saved there.
// Exit status 0 on success; errors go to stderr.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function readNpy(path) {
  const b = fs.readFileSync(path);
  if (b.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(path + ': not an .npy file');
  const major = b[6];
  const headerLen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = b.toString('latin1', start, start + headerLen);
  if (!/'descr':\s*'<f4'/.test(header)) throw new Error(path + ': expected float32 (<f4) data');
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)[1];
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const count = shape.reduce((a, d) => a * d, 1);
  const off = b.byteOffset + start + headerLen;
  // slice() copies into a fresh, aligned ArrayBuffer (x86 and ARM are little-endian like '<f4').
  const data = new Float32Array(b.buffer.slice(off, off + 4 * count));
  return { shape, data };
}

function writeNpy(path, shape, values) {
  const dims = shape.length === 1 ? shape[0] + ',' : shape.join(', ');
  let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + '), }';
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const floats = values instanceof Float32Array ? values : Float32Array.from(values, Number);
  const body = Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength);
  fs.writeFileSync(path, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}

async function main() {
  const args = process.argv.slice(2);
  const sep = args.indexOf('--');
  if (args.length < 3 || sep < 0) throw new Error('usage: MODEL OPT IN.npy... -- OUT.npy...');
  const [model, opt] = args;
  const inPaths = args.slice(2, sep);
  const outPaths = args.slice(sep + 1);
  const options = { graphOptimizationLevel: opt, intraOpNumThreads: 1, interOpNumThreads: 1 };
  // The graph after onnxruntime's rewrites (QDQ groups fused into QLinearConv ...), for tests.
  if (process.env.QAT_ORT_OPTIMIZED_MODEL) options.optimizedModelFilePath = process.env.QAT_ORT_OPTIMIZED_MODEL;
  const session = await ort.InferenceSession.create(model, options);
  if (inPaths.length !== session.inputNames.length) throw new Error('model has ' + session.inputNames.length + ' inputs');
  const meta = session.inputMetadata || [];
  const feeds = {};
  session.inputNames.forEach((name, i) => {
    const a = readNpy(inPaths[i]);
    const m = meta[i];
    if (m && m.type === 'int8') {
      feeds[name] = new ort.Tensor('int8', Int8Array.from(a.data, Math.round), a.shape);
    } else {
      feeds[name] = new ort.Tensor('float32', a.data, a.shape);
    }
  });
  const results = await session.run(feeds);
  if (outPaths.length !== session.outputNames.length) throw new Error('model has ' + session.outputNames.length + ' outputs');
  session.outputNames.forEach((name, i) => {
    const t = results[name];
    writeNpy(outPaths[i], t.dims.map(Number), t.data);
  });
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
