"""crowdrt as an outside project sees it: `cmake --install` into a temporary prefix, the example built
against that copy with find_package(crowdrt) and with pkg-config, then run without LD_LIBRARY_PATH on a tiny
plan over synthetic frames (a folder and a video), and the installed Python module; their counts must equal
those of `crowdrt preprocess` + `crowdrt infer`. Neither libcrowdrt.so nor the program needs the CUDA libraries:
none is among their dependencies, and a CPU plan runs without the loader ever looking for one.

usage: install_test.py BUILD_DIR SOURCE_DIR WORK_DIR
"""
import glob
import os
import re
import shutil
import subprocess
import sys

import cv2
import numpy as np

build, source, work = (os.path.abspath(p) for p in sys.argv[1:4])
sys.path.insert(0, os.path.join(source, "tests", "python"))
import tiny_model  # noqa: E402

shutil.rmtree(work, ignore_errors=True)  # our own scratch folder under the build tree
os.makedirs(work)
prefix = os.path.join(work, "prefix")


def run(*cmd, env=None):
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}): {' '.join(cmd)}\n{result.stdout}\n{result.stderr}")
    return result.stdout


def check(condition, message):
    if not condition:
        sys.exit("install test: " + message)


# 1. Install, and what lands where.
run("cmake", "--install", build, "--prefix", prefix)
crowdrt = os.path.join(prefix, "bin", "crowdrt")
check(os.access(crowdrt, os.X_OK), "no bin/crowdrt")
check(os.path.isfile(os.path.join(prefix, "include", "crowdrt", "crowdrt.h")), "no include/crowdrt/crowdrt.h")
libs = glob.glob(os.path.join(prefix, "lib*", "**", "libcrowdrt.so.0"), recursive=True)
check(len(libs) == 1, f"expected one libcrowdrt.so.0, found {libs}")
libdir = os.path.dirname(libs[0])
check(os.path.isfile(os.path.join(libdir, "cmake", "crowdrt", "crowdrtConfig.cmake")), "no crowdrtConfig.cmake")
pc_dir = os.path.join(libdir, "pkgconfig")
check(os.path.isfile(os.path.join(pc_dir, "crowdrt.pc")), "no pkgconfig/crowdrt.pc")
headers = os.listdir(os.path.join(prefix, "include", "crowdrt"))
check(all(not re.search(r'#include "(core|ir|engine|vision|data|backends)/', open(os.path.join(prefix, "include", "crowdrt", h)).read())
          for h in headers), "an installed header includes a private one")

# 2. The example as an outside project: find_package(crowdrt) ...
example_build = os.path.join(work, "example-build")
run("cmake", "-S", os.path.join(source, "examples"), "-B", example_build, f"-DCMAKE_PREFIX_PATH={prefix}",
    "-DCMAKE_BUILD_TYPE=Release")
run("cmake", "--build", example_build)
example = os.path.join(example_build, "count_people")

# ... and pkg-config, C++17, as a Makefile would.
env = dict(os.environ, PKG_CONFIG_PATH=pc_dir)
version = run("pkg-config", "--modversion", "crowdrt", env=env).strip()
check(re.fullmatch(r"\d+\.\d+\.\d+", version), f"pkg-config version {version!r}")
flags = run("pkg-config", "--cflags", "--libs", "crowdrt", env=env).split()
include_dir = os.path.join(prefix, "include")
check(any(f.startswith("-I") and os.path.samefile(f[2:], include_dir) for f in flags), f"pkg-config --cflags: {flags}")
check(any(f.startswith("-L") and os.path.samefile(f[2:], libdir) for f in flags), f"pkg-config --libs: {flags}")
example_pc = os.path.join(work, "count_people_pkgconfig")
run("c++", "-std=c++17", "-O1", os.path.join(source, "examples", "count_people.cpp"), *flags, "-o", example_pc)

# 3. A tiny plan made by the installed program, synthetic frames, and a video of them.
onnx_path, plan = os.path.join(work, "tiny.onnx"), os.path.join(work, "tiny.plan")
tiny_model.make_model(onnx_path, channels=5, height=32, width=48)
run(crowdrt, "build", "--onnx", onnx_path, "-o", plan, "--threads", "1")
run(crowdrt, "synth", "--out", os.path.join(work, "synth"), "--sequences", "1", "--frames", "3", "--size", "96x64")
sequence = glob.glob(os.path.join(work, "synth", "sequences", "*"))[0]
frames = sorted(glob.glob(os.path.join(sequence, "*.jpg")))
check(len(frames) == 3, f"synth made {len(frames)} frames")

# Reference counts: the program's preprocess (same recipe) and infer, sum / 100.
inputs = os.path.join(work, "inputs")
run(crowdrt, "preprocess", "--sequence", sequence, "--size", "48x32", "--flow", "fast", "--channels", "5",
    "--out", inputs)
expected = []
for i, frame in enumerate(frames):
    x = os.path.join(inputs, os.path.splitext(os.path.basename(frame))[0] + ".npy")
    y = os.path.join(work, f"y{i}.npy")
    run(crowdrt, "infer", "--plan", plan, "--input", x, "--output", y, "--threads", "1")
    expected.append(float(np.load(y).astype(np.float64).sum()) / 100)


def counts(output):
    found = [float(v) for v in re.findall(r"^frame \d+: (\S+)$", output, re.M)]
    check(re.search(r"^\d+ frames, \S+ people per frame on average$", output, re.M), f"no summary line in {output}")
    return found


# Installed programs find their libraries through RUNPATH, as a user's would: no LD_LIBRARY_PATH.
run_env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}

# No CUDA library is a dependency of what is installed (cuDNN is opened on demand by CUDA plans only).
cuda_libraries = re.compile(r"lib(cudnn|cublas|cudart|cuda|nvrtc)[._]")
for binary in (libs[0], crowdrt):
    needed = re.findall(r"\(NEEDED\).*\[(.*)\]", run("readelf", "-d", binary))
    check(needed and not any(cuda_libraries.match(n) for n in needed), f"{binary} needs {needed}")
for binary in (example, example_pc):
    got = counts(run(binary, plan, sequence, "fast", env=run_env))
    check(len(got) == 3, f"{binary}: {len(got)} frame counts")
    for g, e in zip(got, expected):
        check(abs(g - e) <= 1e-5 * abs(e) + 1e-6, f"{binary}: count {g}, crowdrt preprocess + infer gives {e}")

# A CPU plan runs without the CUDA libraries: the dynamic loader is never asked for one (LD_DEBUG=libs logs every
# library it looks for, at start and through dlopen).
traced = subprocess.run([example_pc, plan, sequence, "fast"], capture_output=True, text=True,
                        env=dict(run_env, LD_DEBUG="libs"))
check(traced.returncode == 0, f"traced run failed: {traced.stderr[-2000:]}")
looked_for = {os.path.basename(n) for n in re.findall(r"(?:find library|file)=(\S+)", traced.stderr)}
check(looked_for and not any(cuda_libraries.match(n) for n in looked_for),
      f"a CPU plan made the loader look for {sorted(n for n in looked_for if cuda_libraries.match(n))}")

video = os.path.join(work, "clip.avi")
writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*"MJPG"), 10, (96, 64))
for frame in frames:
    writer.write(cv2.imread(frame))
writer.release()
got = counts(run(example, plan, video, "fast", env=run_env))
check(len(got) == 3 and all(np.isfinite(got)), f"video: counts {got}")

# 4. The installed Python module finds the installed library and counts the same.
modules = glob.glob(os.path.join(libdir, "python3", "dist-packages", "crowdrt*.so"))
check(len(modules) == 1, f"expected the Python module under {libdir}/python3/dist-packages, found {modules}")
script = ("import sys, crowdrt; e = crowdrt.Engine(sys.argv[1], flow='fast'); "
          "print(crowdrt.__file__); print(*[e.count(f) for f in crowdrt.FrameSource(sys.argv[2])])")
lines = run(sys.executable, "-c", script, plan, sequence,
            env=dict(os.environ, PYTHONPATH=os.path.dirname(modules[0]))).splitlines()
check(lines[0] == modules[0], f"imported {lines[0]}, not the installed module")
python_counts = [float(v) for v in lines[1].split()]
check(len(python_counts) == 3 and all(abs(g - e) <= 1e-5 * abs(e) + 1e-6 for g, e in zip(python_counts, expected)),
      f"installed Python module: counts {python_counts}, expected {expected}")

# 5. Bad input: exit 1 with one message, no crash.
result = subprocess.run([example, os.path.join(work, "missing.plan"), video], capture_output=True, text=True, env=run_env)
check(result.returncode == 1 and "missing.plan" in result.stderr, f"missing plan: rc {result.returncode}, {result.stderr}")
# 6. The installed demo runs from any folder (its model is installed), and checks its options before writing.
elsewhere = os.path.join(work, "elsewhere")
os.makedirs(elsewhere)
bad = subprocess.run([crowdrt, "demo", "--out", "bad", "--precisions", "int4"], cwd=elsewhere, capture_output=True,
                     text=True, env=run_env)
check(bad.returncode in (1, 2) and "int4" in bad.stderr and not os.listdir(elsewhere),
      f"demo with a bad precision: rc {bad.returncode}, {bad.stderr}, wrote {os.listdir(elsewhere)}")
demo = subprocess.run([crowdrt, "demo", "--out", "d", "--precisions", "fp32", "--flows", "ultrafast", "--sequences", "1",
                       "--frames", "2", "--threads", "2"], cwd=elsewhere, capture_output=True, text=True, env=run_env)
check(demo.returncode == 0 and os.path.isfile(os.path.join(elsewhere, "d", "bench.md")),
      f"installed demo from another folder: rc {demo.returncode}\n{demo.stdout[-1500:]}\n{demo.stderr[-1500:]}")
check(os.path.isfile(os.path.join(prefix, "share", "crowdrt", "models", "demo", "demo_unet_mobilenet_v2.pth")),
      "the demo model is not installed under share/crowdrt/models/demo")

print(f"install test: crowdrt {version} installed; example (find_package, pkg-config) and Python module count {python_counts}")
