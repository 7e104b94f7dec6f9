// Runs an ONNX model on one float32 .npy input with ONNX Runtime (onnxruntime-node) and writes the first
// output as a float32 .npy: the independent runtime the export tests compare crowdrt's ONNX files with.
// usage: node tests/models/ort_run.js MODEL.onnx INPUT.npy OUTPUT.npy   (NODE_PATH must reach onnxruntime-node)
// Exit codes: 0 ok, 77 onnxruntime-node cannot be loaded (the test counts as skipped), 1 anything else.
// .npy format: numpy.lib.format (magic, version, little-endian header length, Python dict header, data).
'use strict';
const fs = require('fs');

function readNpy(path) {
  const buf = fs.readFileSync(path);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${path}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLen;
  const header = buf.toString('latin1', major === 1 ? 10 : 12, start);
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header))
    throw new Error(`${path}: expected little-endian float32 in C order, header ${header.trim()}`);
  const shape = header.match(/'shape':\s*\(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = buf.readFloatLE(start + 4 * i);
  return {shape, data};
}

function writeNpy(path, shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';  // total header a multiple of 64 bytes
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.alloc(4 * data.length);
  for (let i = 0; i < data.length; i++) body.writeFloatLE(data[i], 4 * i);
  fs.writeFileSync(path, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}

(async () => {
  const [model, input, output] = process.argv.slice(2);
  if (!output) {
    console.error('usage: node ort_run.js MODEL.onnx INPUT.npy OUTPUT.npy');
    process.exit(2);
  }
  let ort;
  try {
    ort = require('onnxruntime-node');
  } catch (e) {
    console.error(`SKIP: onnxruntime-node cannot be loaded (${e.message.split('\n')[0]}); install it with ` +
                  'npm install --ignore-scripts --prefix DIR onnxruntime-node@1.30.0 and set NODE_PATH=DIR/node_modules');
    process.exit(77);
  }
  const x = readNpy(input);
  const session = await ort.InferenceSession.create(model, {intraOpNumThreads: 2, graphOptimizationLevel: 'all'});
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape)};
  const result = await session.run(feeds);
  const y = result[session.outputNames[0]];
  writeNpy(output, y.dims, y.data);
  console.log(`ORT ${ort.env.versions ? ort.env.versions.common : ''}: ${session.inputNames[0]} ${x.shape.join('x')} -> ` +
              `${session.outputNames[0]} ${y.dims.join('x')}`);
})().catch((e) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
