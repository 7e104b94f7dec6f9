#!/bin/sh
# Test fixture: onnxruntime-node 1.30.0 into DIR/node_modules (once), for the export tests' ONNX Runtime runs.
# Never fails: without node/npm or a network the ORT tests report themselves skipped instead.
# usage: tests/models/install_ort.sh DIR
dir=$1
version=1.30.0
if ! command -v node >/dev/null 2>&1; then echo "node not found: the export_ort tests will be skipped"; exit 0; fi
have=$(cd "$dir" 2>/dev/null && node -p "try{require('./node_modules/onnxruntime-node/package.json').version}catch(e){''}")
if [ "$have" = "$version" ]; then echo "onnxruntime-node $version already in $dir"; exit 0; fi
if ! command -v npm >/dev/null 2>&1; then echo "npm not found: the export_ort tests will be skipped"; exit 0; fi
mkdir -p "$dir"
if npm install --ignore-scripts --no-audit --no-fund --prefix "$dir" "onnxruntime-node@$version"; then
  echo "installed onnxruntime-node $version into $dir"
else
  echo "npm install onnxruntime-node@$version failed: the export_ort tests will be skipped"
fi
exit 0
