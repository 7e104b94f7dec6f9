// The Python module `crowdrt`: Engine, NodeArg, build, Preprocessor, FrameSource and Error over libcrowdrt.
// NumPy arrays go in and out through the buffer protocol: a C-contiguous float32 input is read in place,
// outputs are written straight into the arrays returned; crowdrt::Error becomes crowdrt.Error (a RuntimeError)
// whose message uses Python's spelling. Engine also speaks ONNX Runtime's InferenceSession dialect (run,
// get_inputs, get_outputs). Its type stubs are python/crowdrt.pyi, shipped beside the module.
#include <crowdrt/crowdrt.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <mutex>
#include <shared_mutex>
#include <sstream>
#include <utility>

namespace py = pybind11;

namespace {

// The Engine as Python holds it: the plan's path for repr, and a lock so that close() / load() never free the
// plan under an inference another thread runs with the GIL released (inferences share the lock).
struct PyEngine : crowdrt::Engine {
  std::string plan_path;
  bool closed = false;
  std::shared_mutex lifetime;
};

// ONNX Runtime's description of an input or output (onnxruntime.NodeArg): name, shape, type.
struct NodeArg {
  std::string name;
  std::vector<std::int64_t> shape;
  std::string type = "tensor(float)";
};

// Messages written for C++ callers, in Python's spelling.
std::string python_spelling(std::string message) {
  const std::pair<const char*, const char*> words[] = {
      {"overwrite = true", "overwrite=True"}, {"BuildOptions::", ""}, {"EngineOptions::", ""}};
  for (const auto& [cpp, python] : words)
    for (size_t at = message.find(cpp); at != std::string::npos;
         at = message.find(cpp, at + std::string(python).size()))
      message.replace(at, std::string(cpp).size(), python);
  return message;
}

// Uses of a closed engine say so (the library's message speaks of default-constructed engines).
crowdrt::Engine& open_engine(PyEngine& e) {
  if (e.closed)
    throw crowdrt::Error("Engine: closed (by close() or the end of its with block); load(plan) to use it again");
  return e;
}

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

py::object infer(PyEngine& self, const py::object& x, const py::object& out) {
  crowdrt::Engine& engine = open_engine(self);
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
    const std::shared_lock<std::shared_mutex> running(self.lifetime);
    engine.infer(in_views, out_views);
  }
  if (!many && outputs.size() == 1) return outputs[0];
  return py::cast(outputs);
}

// Zones as a zones file's path, its parsed JSON ({"zones": [...]}) or the list of zone dicts.
std::vector<crowdrt::Zone> zones_of(const py::object& zones) {
  if (py::isinstance<py::str>(zones) || py::hasattr(zones, "__fspath__")) return crowdrt::read_zones(fspath(zones));
  py::object list = zones;
  if (py::isinstance<py::dict>(zones)) {
    const py::dict d = py::reinterpret_borrow<py::dict>(zones);
    if (!d.contains("zones")) throw crowdrt::Error("count: zones: a dict needs a \"zones\" list, as in a zones file");
    list = d["zones"];
  }
  if (!py::isinstance<py::list>(list) && !py::isinstance<py::tuple>(list))
    throw crowdrt::Error(
        "count: zones: expected a zones file's path, {\"zones\": [...]} or a list of zone dicts, got " +
        type_name(zones));
  std::vector<crowdrt::Zone> out;
  std::size_t index = 0;
  for (const py::handle item : list) {
    const std::string where = "count: zones: zone " + std::to_string(index++);
    if (!py::isinstance<py::dict>(item)) throw crowdrt::Error(where + " is a " + type_name(item) + ", not a dict");
    crowdrt::Zone zone;
    for (const auto& [key_handle, value] : py::reinterpret_borrow<py::dict>(item)) {
      const std::string key = py::str(key_handle).cast<std::string>();
      try {
        if (key == "name") zone.name = value.cast<std::string>();
        else if (key == "polygon")
          for (const py::handle p : value) {
            const auto xy = p.cast<std::vector<double>>();
            if (xy.size() != 2) throw crowdrt::Error(where + ": each polygon corner is [x, y]");
            zone.polygon.push_back({xy[0], xy[1]});
          }
        else if (key == "normalized") zone.normalized = value.cast<bool>();
        else if (key == "limit") zone.limit = value.cast<double>();
        else if (key == "margin") zone.margin = value.cast<double>();
        else if (key == "frames") zone.frames = value.cast<int>();
        else
          throw crowdrt::Error(where + ": unknown key '" + key +
                               "'; a zone holds name, polygon, normalized, limit, margin, frames");
      } catch (const py::cast_error&) {
        throw crowdrt::Error(where + ": '" + key + "' has the wrong type (" + type_name(value) + ")");
      }
    }
    out.push_back(std::move(zone));
  }
  return out;
}

py::dict zone_counts(const crowdrt::ZoneCounts& counts, const std::vector<crowdrt::Zone>& zones) {
  py::dict by_name;
  for (std::size_t z = 0; z < zones.size(); ++z) by_name[py::str(zones[z].name)] = counts.zones[z];
  py::dict result;
  result["count"] = counts.count;
  result["zones"] = by_name;
  return result;
}

// A frame: its count. A network input: one count per batch item, a float for batch 1 and a list otherwise
// (the library's count sums the whole output, which for a batch would add its items together). With zones (a
// frame only): {"count": ..., "zones": {name: count}}.
py::object count(PyEngine& self, const py::object& x, const py::object& zones) {
  crowdrt::Engine& engine = open_engine(self);
  if (!zones.is_none()) {
    if (!py::isinstance<py::array>(x) ||
        !py::reinterpret_borrow<py::array>(x).dtype().is(py::dtype::of<std::uint8_t>()))
      throw crowdrt::Error("count: zones are counted on frames (H x W x 3 uint8, BGR), not on network inputs");
    const std::vector<crowdrt::Zone> zone_list = zones_of(zones);
    const auto [view, keep] = frame_view(x);
    crowdrt::ZoneCounts counts;
    {
      py::gil_scoped_release unlocked;
      const std::shared_lock<std::shared_mutex> running(self.lifetime);
      counts = engine.count(view, zone_list);
    }
    return zone_counts(counts, zone_list);
  }
  if (py::isinstance<py::array>(x) && py::reinterpret_borrow<py::array>(x).dtype().is(py::dtype::of<std::uint8_t>())) {
    const auto [view, keep] = frame_view(x);
    double people = 0;
    {
      py::gil_scoped_release unlocked;
      const std::shared_lock<std::shared_mutex> running(self.lifetime);
      people = engine.count(view);
    }
    return py::float_(people);
  }
  if (py::isinstance<py::array>(x) && py::reinterpret_borrow<py::array>(x).dtype().is(py::dtype::of<float>())) {
    const FloatArray input = float32_input(x, "count: input");
    const crowdrt::TensorView view(input.data(), dims_of(input));
    if (input.ndim() == 0 || input.shape(0) <= 1) {
      double people = 0;
      {
        py::gil_scoped_release unlocked;
        const std::shared_lock<std::shared_mutex> running(self.lifetime);
        people = engine.count(view);
      }
      return py::float_(people);
    }
    if (engine.inputs().size() != 1 || engine.outputs().empty())
      throw crowdrt::Error("count: a batch needs a plan with one input; use run() and sum each item's density map");
    crowdrt::Tensor density;
    {
      py::gil_scoped_release unlocked;
      const std::shared_lock<std::shared_mutex> running(self.lifetime);
      density = engine.infer(view);
    }
    const std::int64_t items = density.shape.empty() ? 1 : density.shape[0];
    const std::size_t per_item = density.data.size() / static_cast<std::size_t>(items);
    py::list counts;
    for (std::int64_t i = 0; i < items; ++i) {
      double sum = 0;
      for (std::size_t k = 0; k < per_item; ++k) sum += density.data[static_cast<std::size_t>(i) * per_item + k];
      counts.append(sum / 100.0);
    }
    return std::move(counts);
  }
  throw crowdrt::Error("count: expected a frame (H x W x 3 uint8, BGR) or a network input (float32 NCHW), got " +
                       (py::isinstance<py::array>(x)
                            ? py::str(py::reinterpret_borrow<py::array>(x).dtype()).cast<std::string>()
                            : type_name(x)));
}

// ONNX Runtime's InferenceSession.run: the outputs named (all for None), in that order, from {name: array}.
py::list run(PyEngine& self, const py::object& output_names, const py::dict& input_feed,
             const py::object& run_options) {
  crowdrt::Engine& engine = open_engine(self);
  if (!run_options.is_none()) throw crowdrt::Error("run: run_options is not supported; pass None");
  const std::vector<crowdrt::TensorSpec>& in_specs = engine.inputs();
  const std::vector<crowdrt::TensorSpec>& out_specs = engine.outputs();
  const auto names_of = [](const std::vector<crowdrt::TensorSpec>& specs) {
    std::string names;
    for (const crowdrt::TensorSpec& s : specs) names += (names.empty() ? "'" : ", '") + s.name + "'";
    return names;
  };
  for (const auto& [key, value] : input_feed) {
    const std::string name = py::str(key).cast<std::string>();
    if (std::none_of(in_specs.begin(), in_specs.end(), [&](const crowdrt::TensorSpec& s) { return s.name == name; }))
      throw crowdrt::Error("run: input_feed names '" + name + "', which is not an input of the plan (its inputs: " +
                           names_of(in_specs) + ")");
  }
  py::list inputs;
  for (const crowdrt::TensorSpec& spec : in_specs) {
    if (!input_feed.contains(spec.name))
      throw crowdrt::Error("run: input '" + spec.name + "' is missing from input_feed (the plan's inputs: " +
                           names_of(in_specs) + ")");
    inputs.append(input_feed[py::str(spec.name)]);
  }
  std::vector<std::size_t> wanted;
  if (output_names.is_none()) {
    for (std::size_t i = 0; i < out_specs.size(); ++i) wanted.push_back(i);
  } else {
    if (py::isinstance<py::str>(output_names))
      throw crowdrt::Error("run: output_names must be a list of names or None, got a str; write [name]");
    for (const py::handle& h : output_names) {
      const std::string name = py::str(h).cast<std::string>();
      const auto it = std::find_if(out_specs.begin(), out_specs.end(),
                                   [&](const crowdrt::TensorSpec& s) { return s.name == name; });
      if (it == out_specs.end())
        throw crowdrt::Error("run: '" + name + "' is not an output of the plan (its outputs: " + names_of(out_specs) +
                             ")");
      wanted.push_back(static_cast<std::size_t>(it - out_specs.begin()));
    }
  }
  const py::list outputs(infer(self, inputs, py::none()));
  py::list result;
  for (std::size_t i : wanted) result.append(outputs[i]);
  return result;
}

py::list node_args(const std::vector<crowdrt::TensorSpec>& specs) {
  py::list out;
  for (const crowdrt::TensorSpec& s : specs) out.append(NodeArg{s.name, s.shape});
  return out;
}

std::string quoted(const std::string& text) { return py::repr(py::str(text)).cast<std::string>(); }

std::string engine_repr(PyEngine& e) {
  if (e.closed) return "<crowdrt.Engine: closed>";
  if (!e.loaded()) return "<crowdrt.Engine: no plan loaded>";
  std::ostringstream out;
  out << "<crowdrt.Engine " << quoted(e.plan_path) << " on " << e.device() << ", " << e.precision();
  const auto list = [&](const char* what, const std::vector<crowdrt::TensorSpec>& specs) {
    out << ", " << what << " ";
    for (std::size_t i = 0; i < specs.size(); ++i)
      out << (i ? ", " : "") << specs[i].name << " " << crowdrt::dims_str(specs[i].shape);
  };
  list("inputs", e.inputs());
  list("outputs", e.outputs());
  out << ">";
  return out.str();
}

void load_engine(PyEngine& e, const py::object& plan, int threads, const std::string& flow,
                 const std::string& flow_device) {
  const std::string path = fspath(plan);
  py::gil_scoped_release unlocked;
  const std::unique_lock<std::shared_mutex> alone(e.lifetime);
  e.plan_path = path;
  e.closed = false;
  e.load(path, crowdrt::EngineOptions{threads, flow, flow_device});
}

void close_engine(PyEngine& e) {
  py::gil_scoped_release unlocked;
  const std::unique_lock<std::shared_mutex> alone(e.lifetime);
  static_cast<crowdrt::Engine&>(e) = crowdrt::Engine();
  e.closed = true;
}

}  // namespace

PYBIND11_MODULE(crowdrt, m) {
  m.doc() =
      "crowdrt: crowd-counting engines.\n\n"
      "    engine = crowdrt.Engine('model.plan')       # or: with crowdrt.Engine(...) as engine:\n"
      "    density = engine.infer(x)                   # float32 NCHW in and out\n"
      "    people = engine.count(frame)                # a BGR frame (cv2.imread) or a network input\n"
      "    [y] = engine.run(None, {'input': x})        # as onnxruntime.InferenceSession\n"
      "    crowdrt.build('model.onnx', 'model.plan', precision='int8', calib_dir='frames/')";
  m.attr("__version__") = crowdrt::version();
  static py::exception<crowdrt::Error> error(m, "Error", PyExc_RuntimeError);
  error.attr("__doc__") = "What went wrong, on which file, tensor or layer, and what to do (a RuntimeError).";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const crowdrt::Error& e) {
      error(python_spelling(e.what()).c_str());
    }
  });

  py::class_<NodeArg>(m, "NodeArg", "An input or output of a plan, as onnxruntime.NodeArg: name, shape, type.")
      .def(py::init([](std::string name, std::vector<std::int64_t> shape, std::string type) {
             return NodeArg{std::move(name), std::move(shape), std::move(type)};
           }),
           py::arg("name"), py::arg("shape"), py::arg("type") = "tensor(float)",
           "A description to compare with: Engine.get_inputs() == [NodeArg('input', [1, 5, 608, 608])].")
      .def_readonly("name", &NodeArg::name, "The tensor's name in the model.")
      .def_readonly("shape", &NodeArg::shape, "Its dimensions (NCHW), a list of int.")
      .def_readonly("type", &NodeArg::type, "Its element type in ONNX Runtime's spelling: 'tensor(float)'.")
      .def("__repr__",
           [](const NodeArg& a) {
             std::ostringstream out;
             out << "NodeArg(name=" << quoted(a.name) << ", type=" << quoted(a.type) << ", shape=[";
             for (std::size_t i = 0; i < a.shape.size(); ++i) out << (i ? ", " : "") << a.shape[i];
             out << "])";
             return out.str();
           })
      .def("__eq__", [](const NodeArg& a, const NodeArg& b) {
        return a.name == b.name && a.shape == b.shape && a.type == b.type;
      });

  py::class_<PyEngine>(m, "Engine",
                       "A plan loaded for inference. Engine() holds none until load(); `with Engine(plan) as e:` "
                       "releases the plan at the end of the block.")
      .def(py::init([](const py::object& plan, int threads, const std::string& flow, const std::string& flow_device) {
             auto e = std::make_unique<PyEngine>();
             if (!plan.is_none()) load_engine(*e, plan, threads, flow, flow_device);
             return e;
           }),
           py::arg("plan") = py::none(), py::arg("threads") = 0, py::arg("flow") = "medium",
           py::arg("flow_device") = "",
           "Loads a plan file (none: an engine without a plan, every use raises crowdrt.Error until load()). "
           "threads: CPU threads, 0 for every core; flow: the DIS preset count() uses on frames (ultrafast, fast, "
           "medium); flow_device: where count() prepares frames: 'cuda' (the whole frame on the GPU, CUDA plans), "
           "'cpu' (OpenCV), or '' for the plan's device.")
      .def("load", &load_engine, py::arg("plan"), py::arg("threads") = 0, py::arg("flow") = "medium",
           py::arg("flow_device") = "",
           "Loads a plan file in place of the current one (the same arguments as Engine()). After a failed load "
           "every use raises crowdrt.Error repeating why.")
      .def("close", &close_engine, "Releases the plan and its memory now; later uses raise crowdrt.Error until load().")
      .def("__enter__", [](py::object self) { return self; }, "with Engine(plan) as engine: ...")
      .def(
          "__exit__",
          [](PyEngine& e, const py::object& exc_type, const py::object& exc_value, const py::object& traceback) {
            close_engine(e);
            return false;
          },
          py::arg("exc_type"), py::arg("exc_value"), py::arg("traceback"),
          "Closes the engine at the end of a with block; exceptions pass through.")
      .def("__repr__", &engine_repr)
      .def_property_readonly("loaded", [](PyEngine& e) { return !e.closed && e.loaded(); },
                             "True when a plan is loaded.")
      .def_property_readonly("inputs", [](PyEngine& e) { return specs(open_engine(e).inputs()); },
                             "[(name, shape)] of the network inputs.")
      .def_property_readonly("outputs", [](PyEngine& e) { return specs(open_engine(e).outputs()); },
                             "[(name, shape)] of the network outputs.")
      .def_property_readonly("device", [](PyEngine& e) { return open_engine(e).device(); },
                             "The backend the plan was built for: 'cpu', 'ref' or 'cuda'.")
      .def_property_readonly("precision", [](PyEngine& e) { return open_engine(e).precision(); },
                             "The lowest precision the build allowed: 'fp32', 'fp16', 'bf16' or 'int8'.")
      .def("get_inputs", [](PyEngine& e) { return node_args(open_engine(e).inputs()); },
           "The network inputs as NodeArg (name, shape, type), as onnxruntime.InferenceSession.get_inputs().")
      .def("get_outputs", [](PyEngine& e) { return node_args(open_engine(e).outputs()); },
           "The network outputs as NodeArg (name, shape, type), as onnxruntime.InferenceSession.get_outputs().")
      .def("run", &run, py::arg("output_names"), py::arg("input_feed"), py::arg("run_options") = py::none(),
           "As onnxruntime.InferenceSession.run: input_feed maps each input's name to a float32 array; returns the "
           "outputs named in output_names (None: all), in that order, as a list of arrays. run_options must be None.")
      .def("infer", &infer, py::arg("x"), py::arg("out") = py::none(),
           "float32 NCHW array(s) in, float32 array(s) out: one array for a one-input, one-output plan, lists for "
           "a list of inputs; out= writes into given arrays (returned).")
      .def("count", &count, py::arg("x"), py::arg("zones") = py::none(),
           "People in a frame (H x W x 3 uint8 BGR, the next of a sequence): a float. People in a network input "
           "(float32 NCHW): the density map's sum / 100, a float for batch 1, a list of one count per item for a "
           "larger batch. With zones (a zones file's path, {'zones': [...]} or a list of zone dicts as in that "
           "file), a frame's {'count': people, 'zones': {name: people}}.")
      .def("reset", [](PyEngine& e) { open_engine(e).reset(); }, "The next count(frame) starts a new sequence.");

  m.def(
      "build",
      [](const py::object& onnx, const py::object& plan, const std::string& precision, const std::string& device,
         int threads, const std::map<std::string, crowdrt::Dims>& input_shapes, const py::object& timing_cache,
         const std::string& calibrator, const py::object& calib_dir, const py::object& calib_data,
         const std::string& calib_flow, const std::string& calib_recipe, std::int64_t calib_max,
         const py::object& calib_cache, bool recalibrate, const std::vector<std::string>& keep_fp32,
         double count_budget, const py::object& sensitivity_report, const py::object& save_qdq, bool overwrite) {
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
        o.calib_recipe = calib_recipe;
        o.calib_max = calib_max;
        o.calib_cache = calib_cache.is_none() ? "" : fspath(calib_cache);
        o.recalibrate = recalibrate;
        o.keep_fp32 = keep_fp32;
        o.count_budget = count_budget;
        o.sensitivity_report = sensitivity_report.is_none() ? "" : fspath(sensitivity_report);
        o.save_qdq = save_qdq.is_none() ? "" : fspath(save_qdq);
        const std::string onnx_path = fspath(onnx), plan_path = fspath(plan);
        // Ctrl-C: Python's handler only notes the signal while the build runs without the GIL; the build asks here
        // (its should_stop, on this thread) and stops within a second, writing nothing; KeyboardInterrupt follows.
        bool python_error = false;
        o.should_stop = [&python_error] {
          py::gil_scoped_acquire locked;
          python_error = PyErr_CheckSignals() != 0;  // leaves the KeyboardInterrupt set for below
          return python_error;
        };
        crowdrt::BuildSummary s;
        try {
          py::gil_scoped_release unlocked;
          s = crowdrt::Builder(o).build(onnx_path, plan_path, overwrite);
        } catch (const crowdrt::Error&) {
          if (python_error) throw py::error_already_set();
          throw;
        }
        py::dict d;
        d["plan"] = s.plan_path;
        d["layers"] = s.layers;
        d["precision"] = s.precision;
        d["precision_mix"] = s.precision_mix;
        d["device"] = s.device;
        d["macs"] = s.macs;
        d["arena_bytes"] = s.arena_bytes;
        return d;
      },
      py::arg("onnx"), py::arg("plan"), py::kw_only(), py::arg("precision") = "fp32", py::arg("device") = "cpu",
      py::arg("threads") = 0, py::arg("input_shapes") = std::map<std::string, crowdrt::Dims>{},
      py::arg("timing_cache") = py::none(), py::arg("calibrator") = "entropy", py::arg("calib_dir") = py::none(),
      py::arg("calib_data") = py::none(), py::arg("calib_flow") = "medium", py::arg("calib_recipe") = "network",
      py::arg("calib_max") = 500, py::arg("calib_cache") = py::none(), py::arg("recalibrate") = false,
      py::arg("keep_fp32") = std::vector<std::string>{}, py::arg("count_budget") = 0.0,
      py::arg("sensitivity_report") = py::none(), py::arg("save_qdq") = py::none(), py::arg("overwrite") = false,
      "Builds a plan from an ONNX model (what `crowdrt build` does); returns a summary dict. Ctrl-C stops it within a "
      "second with KeyboardInterrupt, and nothing is written.");

  py::class_<crowdrt::Preprocessor>(m, "Preprocessor",
                                    "Frames of one sequence into network inputs (the seed's recipe).")
      .def(py::init([](int width, int height, int channels, const std::string& flow, const std::string& variant) {
             return crowdrt::Preprocessor(crowdrt::PreprocessOptions{width, height, channels, flow, variant});
           }),
           py::kw_only(), py::arg("width") = 608, py::arg("height") = 608, py::arg("channels") = 5,
           py::arg("flow") = "medium", py::arg("variant") = "eval",
           "The seed's input recipe at width x height: channels 5 (RGB and DIS flow against the previous frame) or 3; "
           "flow: ultrafast, fast or medium; variant: 'eval' (resize, then flow) or 'calib' (flow at source size).")
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
      .def("reset", &crowdrt::Preprocessor::reset, "The next frame starts a new sequence.")
      .def("__repr__", [](const crowdrt::Preprocessor& p) {
        const crowdrt::PreprocessOptions& o = p.options();
        return "<crowdrt.Preprocessor " + std::to_string(o.width) + " wide, " + std::to_string(o.height) + " high, " +
               std::to_string(o.channels) + " channels, flow " + quoted(o.flow) + ", variant " + quoted(o.variant) +
               ">";
      });

  m.def(
      "read_zones",
      [](const py::object& path) {
        py::list zones;
        for (const crowdrt::Zone& z : crowdrt::read_zones(fspath(path))) {
          py::dict zone;
          zone["name"] = z.name;
          py::list polygon;
          for (const crowdrt::ZonePoint& p : z.polygon) polygon.append(py::make_tuple(p.x, p.y));
          zone["polygon"] = polygon;
          zone["normalized"] = z.normalized;
          if (z.limit) zone["limit"] = *z.limit;
          if (z.margin) zone["margin"] = *z.margin;
          zone["frames"] = z.frames;
          zones.append(zone);
        }
        return zones;
      },
      py::arg("path"),
      "The zones of a zones file ({\"zones\": [{\"name\", \"polygon\", \"normalized\", \"limit\"}, ...]}) as a list of "
      "dicts for Engine.count(frame, zones); crowdrt.Error naming the zone for a malformed file.");

  py::class_<crowdrt::FrameSource>(m, "FrameSource",
                                   "Frames (H x W x 3 uint8 BGR) of a video, image folder, image or live source.")
      .def(py::init([](const py::object& path, const std::string& live_drop, int reconnect) {
             crowdrt::FrameSourceOptions options;
             options.live_drop = live_drop;
             options.reconnect = reconnect;
             return crowdrt::FrameSource(
                 py::isinstance<py::int_>(path) ? std::to_string(path.cast<long>()) : fspath(path), options);
           }),
           py::arg("path"), py::arg("live_drop") = "oldest", py::arg("reconnect") = 10,
           "Opens a video file, a folder of .jpg / .png images (in name order), one image, or a live source: a "
           "camera index (0), a V4L2 device (/dev/video0), a stream URL (rtsp://, http://, https://) or a GStreamer "
           "pipeline (' ! ', ending in appsink). live_drop: 'oldest' drops the oldest waiting frame when frames are "
           "taken more slowly than they come, 'none' makes the source wait; reconnect: attempts to reopen a lost "
           "stream (0.5 s doubling to 8 s) before the iteration ends.")
      .def(
          "__iter__", [](py::object self) { return self; }, "The source is its own iterator.")
      .def(
          "__next__",
          [](crowdrt::FrameSource& s) {
            crowdrt::Frame frame;
            bool more = false;
            {
              py::gil_scoped_release unlocked;  // a live source may wait for its next frame (or a reconnect)
              more = s.next(frame);
            }
            if (!more) throw py::stop_iteration();
            return to_numpy(std::move(frame));
          },
          "The next frame, H x W x 3 uint8 BGR; StopIteration at the end.")
      .def("__repr__",
           [](const crowdrt::FrameSource& s) {
             return "<crowdrt.FrameSource " + quoted(s.path()) + " at frame " + std::to_string(s.position()) + ">";
           })
      .def_property_readonly("position", &crowdrt::FrameSource::position, "How many frames have been read.")
      .def_property_readonly("live", &crowdrt::FrameSource::live, "Whether this is a camera, stream or pipeline.")
      .def_property_readonly("after_gap", &crowdrt::FrameSource::after_gap,
                             "Whether the frame last returned follows a reconnect of a live stream: call "
                             "Engine.reset() before counting it (the optical flow starts afresh).")
      .def_property_readonly("dropped", &crowdrt::FrameSource::dropped,
                             "Frames of a live source dropped so far (live_drop='oldest').")
      .def_property_readonly("reconnects", &crowdrt::FrameSource::reconnects, "Reconnects of a live source so far.");
}
