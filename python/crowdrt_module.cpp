// The Python module `crowdrt`: Engine, build, Preprocessor, FrameSource and Error over libcrowdrt.
// NumPy arrays go in and out through the buffer protocol: a C-contiguous float32 input is read in place,
// outputs are written straight into the arrays returned; crowdrt::Error becomes crowdrt.Error (a RuntimeError).
#include <crowdrt/crowdrt.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <utility>

namespace py = pybind11;

namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

std::string fspath(const py::object& path) {
  return py::str(py::module_::import("os").attr("fspath")(path)).cast<std::string>();
}

std::string type_name(const py::handle& obj) { return py::str(py::type::of(obj).attr("__name__")).cast<std::string>(); }

crowdrt::Dims dims_of(const py::array& a) { return crowdrt::Dims(a.shape(), a.shape() + a.ndim()); }

// A float32 array, C-contiguous: the caller's own memory when it already is, a copy otherwise.
FloatArray float32_input(const py::handle& obj, const std::string& what) {
  if (!py::isinstance<py::array>(obj))
    throw crowdrt::Error(what + ": expected a numpy.ndarray of float32, got " + type_name(obj));
  const py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().is(py::dtype::of<float>()))
    throw crowdrt::Error(what + ": expected float32, got " + py::str(a.dtype()).cast<std::string>() +
                         "; convert with x.astype(numpy.float32)");
  return FloatArray::ensure(a);
}

// The output array owns the tensor's vector: no copy.
py::array to_numpy(crowdrt::Tensor&& tensor) {
  auto* owned = new crowdrt::Tensor(std::move(tensor));
  py::capsule free_tensor(owned, [](void* p) { delete static_cast<crowdrt::Tensor*>(p); });
  const std::vector<py::ssize_t> shape(owned->shape.begin(), owned->shape.end());
  return py::array_t<float>(shape, owned->data.data(), free_tensor);
}

py::array to_numpy(crowdrt::Frame&& frame) {
  auto* owned = new crowdrt::Frame(std::move(frame));
  py::capsule free_frame(owned, [](void* p) { delete static_cast<crowdrt::Frame*>(p); });
  return py::array_t<std::uint8_t>({owned->height, owned->width, 3}, owned->bgr.data(), free_frame);
}

// An HxWx3 uint8 BGR array (as cv2.imread gives) as a frame view; rows may be strided, pixels must be packed.
std::pair<crowdrt::FrameView, py::array> frame_view(const py::handle& obj) {
  if (!py::isinstance<py::array>(obj))
    throw crowdrt::Error("frame: expected a numpy.ndarray (H x W x 3, uint8, BGR), got " + type_name(obj));
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().is(py::dtype::of<std::uint8_t>()) || a.ndim() != 3 || a.shape(2) != 3)
    throw crowdrt::Error("frame: expected H x W x 3 uint8 (BGR, as cv2.imread gives), got shape " +
                         crowdrt::dims_str(dims_of(a)) + " of " + py::str(a.dtype()).cast<std::string>());
  if (a.strides(2) != 1 || a.strides(1) != 3 || a.strides(0) < 3 * a.shape(1))
    a = py::array_t<std::uint8_t, py::array::c_style>::ensure(a);
  crowdrt::FrameView view{static_cast<const std::uint8_t*>(a.data()), static_cast<int>(a.shape(1)),
                          static_cast<int>(a.shape(0)), static_cast<std::ptrdiff_t>(a.strides(0))};
  return {view, a};
}

py::list specs(const std::vector<crowdrt::TensorSpec>& list) {
  py::list out;
  for (const crowdrt::TensorSpec& s : list) out.append(py::make_tuple(s.name, py::tuple(py::cast(s.shape))));
  return out;
}

// Output arrays given by the caller are written in place; they must match exactly.
py::array output_array(const py::handle& out, const crowdrt::TensorSpec& spec) {
  if (out.is_none()) return py::array_t<float>(std::vector<py::ssize_t>(spec.shape.begin(), spec.shape.end()));
  if (!py::isinstance<py::array>(out))
    throw crowdrt::Error("infer: out must be a numpy.ndarray of float32, got " + type_name(out));
  py::array a = py::reinterpret_borrow<py::array>(out);
  if (!a.dtype().is(py::dtype::of<float>()) || !(a.flags() & py::array::c_style) || !a.writeable())
    throw crowdrt::Error("infer: out must be a writeable C-contiguous float32 array");
  return a;
}

py::object infer(crowdrt::Engine& engine, const py::object& x, const py::object& out) {
  const bool many = py::isinstance<py::list>(x) || py::isinstance<py::tuple>(x);
  const std::vector<crowdrt::TensorSpec>& in_specs = engine.inputs();
  const std::vector<crowdrt::TensorSpec>& out_specs = engine.outputs();
  std::vector<py::handle> xs, outs;
  if (many) {
    for (const py::handle& h : x) xs.push_back(h);
  } else {
    xs.push_back(x);
  }
  if (!out.is_none() && (py::isinstance<py::list>(out) || py::isinstance<py::tuple>(out))) {
    for (const py::handle& h : out) outs.push_back(h);
  } else if (!out.is_none()) {
    outs.push_back(out);
  }
  if (xs.size() != in_specs.size())
    throw crowdrt::Error("infer: the plan has " + std::to_string(in_specs.size()) + " inputs, given " +
                         std::to_string(xs.size()));
  if (!outs.empty() && outs.size() != out_specs.size())
    throw crowdrt::Error("infer: the plan has " + std::to_string(out_specs.size()) + " outputs, out has " +
                         std::to_string(outs.size()));
  std::vector<FloatArray> inputs;
  std::vector<crowdrt::TensorView> in_views;
  for (size_t i = 0; i < xs.size(); ++i) {
    inputs.push_back(float32_input(xs[i], "infer: input '" + in_specs[i].name + "'"));
    in_views.emplace_back(inputs.back().data(), dims_of(inputs.back()));
  }
  std::vector<py::array> outputs;
  std::vector<crowdrt::MutableTensorView> out_views;
  for (size_t i = 0; i < out_specs.size(); ++i) {
    outputs.push_back(output_array(outs.empty() ? py::none() : outs[i], out_specs[i]));
    out_views.emplace_back(static_cast<float*>(outputs.back().mutable_data()), dims_of(outputs.back()));
  }
  {
    py::gil_scoped_release unlocked;
    engine.infer(in_views, out_views);
  }
  if (!many && outputs.size() == 1) return outputs[0];
  return py::cast(outputs);
}

double count(crowdrt::Engine& engine, const py::object& x) {
  if (py::isinstance<py::array>(x) && py::reinterpret_borrow<py::array>(x).dtype().is(py::dtype::of<std::uint8_t>())) {
    const auto [view, keep] = frame_view(x);
    py::gil_scoped_release unlocked;
    return engine.count(view);
  }
  if (py::isinstance<py::array>(x) && py::reinterpret_borrow<py::array>(x).dtype().is(py::dtype::of<float>())) {
    const FloatArray input = float32_input(x, "count: input");
    const crowdrt::TensorView view(input.data(), dims_of(input));
    py::gil_scoped_release unlocked;
    return engine.count(view);
  }
  throw crowdrt::Error("count: expected a frame (H x W x 3 uint8, BGR) or a network input (float32 NCHW), got " +
                       (py::isinstance<py::array>(x) ? py::str(py::reinterpret_borrow<py::array>(x).dtype()).cast<std::string>()
                                                     : type_name(x)));
}

}  // namespace

PYBIND11_MODULE(crowdrt, m) {
  m.doc() = "crowdrt: crowd-counting engines. Engine(plan).infer(x) / .count(frame), build(onnx, plan).";
  m.attr("__version__") = crowdrt::version();
  py::register_exception<crowdrt::Error>(m, "Error", PyExc_RuntimeError);

  py::class_<crowdrt::Engine>(m, "Engine", "A plan loaded for inference.")
      .def(py::init<>(), "An engine without a plan; every use raises crowdrt.Error until load() succeeds.")
      .def(py::init([](const py::object& plan, int threads, const std::string& flow, const std::string& flow_device) {
             return crowdrt::Engine(fspath(plan), crowdrt::EngineOptions{threads, flow, flow_device});
           }),
           py::arg("plan"), py::arg("threads") = 0, py::arg("flow") = "medium", py::arg("flow_device") = "",
           "Loads a plan file; flow is the DIS preset count() uses on frames, flow_device where it prepares them: "
           "'cuda' (the whole frame on the GPU, CUDA plans), 'cpu' (OpenCV), or '' for the plan's device.")
      .def(
          "load",
          [](crowdrt::Engine& e, const py::object& plan, int threads, const std::string& flow, const std::string& flow_device) {
            e.load(fspath(plan), crowdrt::EngineOptions{threads, flow, flow_device});
          },
          py::arg("plan"), py::arg("threads") = 0, py::arg("flow") = "medium", py::arg("flow_device") = "")
      .def_property_readonly("loaded", &crowdrt::Engine::loaded)
      .def_property_readonly("inputs", [](const crowdrt::Engine& e) { return specs(e.inputs()); },
                             "[(name, shape)] of the network inputs")
      .def_property_readonly("outputs", [](const crowdrt::Engine& e) { return specs(e.outputs()); })
      .def_property_readonly("device", &crowdrt::Engine::device)
      .def_property_readonly("precision", &crowdrt::Engine::precision)
      .def("infer", &infer, py::arg("x"), py::arg("out") = py::none(),
           "float32 NCHW array(s) in, float32 array(s) out; out= writes into given arrays.")
      .def("count", &count, py::arg("x"),
           "People in a frame (H x W x 3 uint8 BGR, next of a sequence) or in a network input: sum / 100.")
      .def("reset", &crowdrt::Engine::reset, "The next count(frame) starts a new sequence.");

  m.def(
      "build",
      [](const py::object& onnx, const py::object& plan, const std::string& precision, const std::string& device,
         int threads, const std::map<std::string, crowdrt::Dims>& input_shapes, const py::object& timing_cache,
         const std::string& calibrator,
         const py::object& calib_dir, const py::object& calib_data, const std::string& calib_flow, std::int64_t calib_max,
         const py::object& calib_cache, const std::vector<std::string>& keep_fp32, double count_budget,
         const py::object& sensitivity_report, const py::object& save_qdq, bool overwrite) {
        crowdrt::BuildOptions o;
        o.precision = precision;
        o.device = device;
        o.threads = threads;
        o.input_shapes = input_shapes;
        o.timing_cache = timing_cache.is_none() ? "" : fspath(timing_cache);
        o.calibrator = calibrator;
        o.calib_dir = calib_dir.is_none() ? "" : fspath(calib_dir);
        o.calib_data = calib_data.is_none() ? "" : fspath(calib_data);
        o.calib_flow = calib_flow;
        o.calib_max = calib_max;
        o.calib_cache = calib_cache.is_none() ? "" : fspath(calib_cache);
        o.keep_fp32 = keep_fp32;
        o.count_budget = count_budget;
        o.sensitivity_report = sensitivity_report.is_none() ? "" : fspath(sensitivity_report);
        o.save_qdq = save_qdq.is_none() ? "" : fspath(save_qdq);
        const std::string onnx_path = fspath(onnx), plan_path = fspath(plan);
        crowdrt::BuildSummary s;
        {
          py::gil_scoped_release unlocked;
          s = crowdrt::Builder(o).build(onnx_path, plan_path, overwrite);
        }
        py::dict d;
        d["plan"] = s.plan_path;
        d["layers"] = s.layers;
        d["precision"] = s.precision;
        d["device"] = s.device;
        d["macs"] = s.macs;
        d["arena_bytes"] = s.arena_bytes;
        return d;
      },
      py::arg("onnx"), py::arg("plan"), py::kw_only(), py::arg("precision") = "fp32", py::arg("device") = "cpu",
      py::arg("threads") = 0, py::arg("input_shapes") = std::map<std::string, crowdrt::Dims>{},
      py::arg("timing_cache") = py::none(),
      py::arg("calibrator") = "entropy", py::arg("calib_dir") = py::none(), py::arg("calib_data") = py::none(),
      py::arg("calib_flow") = "medium", py::arg("calib_max") = 500, py::arg("calib_cache") = py::none(),
      py::arg("keep_fp32") = std::vector<std::string>{}, py::arg("count_budget") = 0.0,
      py::arg("sensitivity_report") = py::none(), py::arg("save_qdq") = py::none(), py::arg("overwrite") = false,
      "Builds a plan from an ONNX model (what `crowdrt build` does); returns a summary dict.");

  py::class_<crowdrt::Preprocessor>(m, "Preprocessor", "Frames of one sequence into network inputs (the seed's recipe).")
      .def(py::init([](int width, int height, int channels, const std::string& flow, const std::string& variant) {
             return crowdrt::Preprocessor(crowdrt::PreprocessOptions{width, height, channels, flow, variant});
           }),
           py::kw_only(), py::arg("width") = 608, py::arg("height") = 608, py::arg("channels") = 5,
           py::arg("flow") = "medium", py::arg("variant") = "eval")
      .def(
          "__call__",
          [](crowdrt::Preprocessor& p, const py::object& frame) {
            const auto [view, keep] = frame_view(frame);
            crowdrt::Tensor t;
            {
              py::gil_scoped_release unlocked;
              t = p.process(view);
            }
            return to_numpy(std::move(t));
          },
          py::arg("frame"), "1 x C x H x W float32 of the next frame (H x W x 3 uint8 BGR)")
      .def("reset", &crowdrt::Preprocessor::reset, "The next frame starts a new sequence.");

  py::class_<crowdrt::FrameSource>(m, "FrameSource", "Frames (H x W x 3 uint8 BGR) of a video, image folder or image.")
      .def(py::init([](const py::object& path) { return crowdrt::FrameSource(fspath(path)); }), py::arg("path"))
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__",
           [](crowdrt::FrameSource& s) {
             crowdrt::Frame frame;
             if (!s.next(frame)) throw py::stop_iteration();
             return to_numpy(std::move(frame));
           })
      .def_property_readonly("position", &crowdrt::FrameSource::position);
}
