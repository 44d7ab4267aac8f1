// Writes faceapi-oracle.json: outputs of face-api's own networks (its bundled tfjs 4.22, CPU backend) for the
// shared fixture inputs that shared/fixtures/facenets has no reference for (68 landmarks, tiny face detector).
// Run from the repository root after `bash models/install.sh`:  node tests/Sair.Engine.Tests/FaceNets/Oracle/make-oracle.mjs
// It also re-derives the shared recognition references and prints the largest difference, to show that this
// runtime agrees with the one that wrote the shared fixtures.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The browser bundle detects Node and then needs Node's util module; posing as a browser keeps it self-contained.
globalThis.window = globalThis;
globalThis.document = {};

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../../..');
const modelDir = path.join(root, 'models/node_modules/@vladmandic/face-api/model');
const fixtures = path.join(root, '../shared/fixtures/facenets');
const faceapi = await import(path.join(root, 'models/node_modules/@vladmandic/face-api/dist/face-api.esm.js'));
const { tf } = faceapi;
await tf.setBackend('cpu');
await tf.ready();

async function load(net, name) {
  const manifest = JSON.parse(fs.readFileSync(path.join(modelDir, `${name}-weights_manifest.json`), 'utf8'));
  const map = {};
  for (const group of manifest) {
    const buffers = group.paths.map((p) => fs.readFileSync(path.join(modelDir, p)));
    const all = Buffer.concat(buffers);
    const data = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
    Object.assign(map, tf.io.decodeWeights(data, group.weights));
  }
  net.loadFromWeightMap(map);
  return net;
}

function input(entry, key) {
  const spec = entry[key];
  const bytes = fs.readFileSync(path.join(fixtures, spec.file));
  return tf.tensor4d(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4), spec.shape);
}

const manifest = JSON.parse(fs.readFileSync(path.join(fixtures, 'manifest.json'), 'utf8'));
const recognition = await load(new faceapi.FaceRecognitionNet(), 'face_recognition_model');
const landmarks = await load(new faceapi.FaceLandmark68Net(), 'face_landmark_68_model');
const detector = await load(new faceapi.TinyFaceDetector(), 'tiny_face_detector_model');
const detectorSize = 224;

const out = {
  note: 'face-api 1.7.15 networks on its bundled tfjs 4.22 (CPU backend), inputs from shared/fixtures/facenets; written by make-oracle.mjs',
  tinyFaceDetectorInputSize: detectorSize,
  entries: [],
};
let worstRecognition = 0;
for (const entry of manifest.entries) {
  const chip150 = input(entry, 'faceapi_input150');
  const descriptor = await recognition.computeFaceDescriptor(chip150);
  const ref = fs.readFileSync(path.join(fixtures, entry.outputs.faceapi_recognition_128.file));
  const refFloats = new Float32Array(ref.buffer, ref.byteOffset, ref.byteLength / 4);
  descriptor.forEach((v, i) => { worstRecognition = Math.max(worstRecognition, Math.abs(v - refFloats[i])); });

  const chip112 = input(entry, 'faceapi_input112');
  const points = await landmarks.forward(chip112);
  const image224 = input(entry, 'faceres_input');
  const grid = await detector.forward(image224, detectorSize);
  out.entries.push({
    id: entry.id,
    landmarks68: { input: 'faceapi_input112', shape: points.shape, values: Array.from(await points.data()) },
    tinyFaceDetector: { input: 'faceres_input', shape: grid.shape, values: Array.from(await grid.data()) },
  });
}
fs.writeFileSync(path.join(here, 'faceapi-oracle.json'), `${JSON.stringify(out)}\n`);
console.log(`wrote faceapi-oracle.json; recognition vs shared fixtures: max |difference| ${worstRecognition}`);
