#include "serve/kserve/grpc_server.h"

#include <grpc/support/log.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <algorithm>
#include <climits>
#include <exception>
#include <new>

#include "core/log.h"
#include "serve/kserve/grpc_predict_v2.grpc.pb.h"

namespace crowdrt::serve::kserve {
namespace {

using GrpcClock = std::chrono::steady_clock;
using ProtoParameters = google::protobuf::Map<std::string, inference::InferParameter>;

// The v2 protocol's parameters as the HTTP side holds them (JSON), so that both are read by the same code. A
// non-negative int64 becomes an unsigned JSON number, as a JSON parser reads one.
nlohmann::json parameters_json(const ProtoParameters& parameters, const std::string& where) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, p] : parameters) {
    switch (p.parameter_choice_case()) {
      case inference::InferParameter::kBoolParam: j[name] = p.bool_param(); break;
      case inference::InferParameter::kInt64Param:
        if (p.int64_param() >= 0)
          j[name] = static_cast<uint64_t>(p.int64_param());
        else
          j[name] = p.int64_param();
        break;
      case inference::InferParameter::kUint64Param: j[name] = p.uint64_param(); break;
      case inference::InferParameter::kDoubleParam: j[name] = p.double_param(); break;
      case inference::InferParameter::kStringParam: j[name] = p.string_param(); break;
      default: throw ProtocolError(400, cat(where, ": parameter \"", name, "\" has no value"));
    }
  }
  return j;
}

void set_parameters(const nlohmann::json& j, ProtoParameters& out) {
  for (const auto& [name, v] : j.items()) {
    inference::InferParameter& p = out[name];
    if (v.is_boolean())
      p.set_bool_param(v.get<bool>());
    else if (v.is_number_integer())
      p.set_int64_param(v.get<int64_t>());
    else if (v.is_number())
      p.set_double_param(v.get<double>());
    else if (v.is_string())
      p.set_string_param(v.get<std::string>());
    else
      p.set_string_param(v.dump());
  }
}

template <class Repeated>
nlohmann::json json_array(const Repeated& values) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& v : values) a.push_back(v);
  return a;
}

// The typed contents of one input: the repeated field of its datatype, read as JSON data is (same range checks);
// 400 when its elements sit in another datatype's field.
void fill_from_contents(WireTensor& t, const inference::InferTensorContents& c, const std::string& where) {
  nlohmann::json data;
  size_t used = 0;
  const std::string& d = t.datatype;
  if (d == "BOOL") {
    data = json_array(c.bool_contents());
    used = c.bool_contents_size();
  } else if (d == "INT8" || d == "INT16" || d == "INT32") {
    data = json_array(c.int_contents());
    used = c.int_contents_size();
  } else if (d == "INT64") {
    data = json_array(c.int64_contents());
    used = c.int64_contents_size();
  } else if (d == "UINT8" || d == "UINT16" || d == "UINT32") {
    data = json_array(c.uint_contents());
    used = c.uint_contents_size();
  } else if (d == "UINT64") {
    data = json_array(c.uint64_contents());
    used = c.uint64_contents_size();
  } else if (d == "FP32") {
    data = json_array(c.fp32_contents());
    used = c.fp32_contents_size();
  } else if (d == "FP64") {
    data = json_array(c.fp64_contents());
    used = c.fp64_contents_size();
  } else if (d == "FP16") {
    throw ProtocolError(400, cat(where, ": FP16 has no typed contents; send it in raw_input_contents"));
  }
  const size_t all = c.bool_contents_size() + c.int_contents_size() + c.int64_contents_size() + c.uint_contents_size() +
                     c.uint64_contents_size() + c.fp32_contents_size() + c.fp64_contents_size() +
                     c.bytes_contents_size();
  if (all != used)
    throw ProtocolError(400, cat(where, ": its contents are in a field of another datatype than ", d,
                                 " (e.g. UINT8 goes in uint_contents, FP32 in fp32_contents)"));
  fill_from_json(t, data, where);
}

// The gRPC request as the same InferRequest the HTTP front builds from its JSON.
InferRequest infer_request_of(const inference::ModelInferRequest& in) {
  InferRequest request;
  request.id = in.id();
  request.parameters = parameters_json(in.parameters(), "the request");
  if (in.inputs_size() == 0)
    throw ProtocolError(400, "the inference request needs inputs: a non-empty list of tensors");
  const bool raw = in.raw_input_contents_size() > 0;
  if (raw && in.raw_input_contents_size() != in.inputs_size())
    throw ProtocolError(400, cat("raw_input_contents has ", in.raw_input_contents_size(), " entries for ",
                                 in.inputs_size(), " inputs: give one per input, in the inputs' order"));
  for (int i = 0; i < in.inputs_size(); ++i) {
    const auto& tensor = in.inputs(i);
    WireTensor t;
    t.name = tensor.name();
    t.datatype = tensor.datatype();
    t.shape.assign(tensor.shape().begin(), tensor.shape().end());
    const std::string where = cat("input '", t.name, "'");
    t.parameters = parameters_json(tensor.parameters(), where);
    const uint64_t byte_size = tensor_byte_size(t, where);
    if (raw) {
      if (tensor.has_contents())
        throw ProtocolError(400, cat(where, ": give its data in contents or in raw_input_contents, not both"));
      const std::string& bytes = in.raw_input_contents(i);
      if (bytes.size() != byte_size)
        throw ProtocolError(400, cat(where, ": raw_input_contents holds ", bytes.size(), " bytes but shape ",
                                     shape_str(t.shape), " of ", t.datatype, " needs ", byte_size));
      const auto* first = reinterpret_cast<const std::byte*>(bytes.data());
      t.bytes.assign(first, first + bytes.size());
    } else {
      fill_from_contents(t, tensor.contents(), where);
    }
    request.inputs.push_back(std::move(t));
  }
  request.outputs_given = in.outputs_size() > 0;
  for (const auto& out : in.outputs()) {
    parameters_json(out.parameters(), cat("output '", out.name(), "'"));  // well-formed; binary_data means nothing here
    request.outputs.push_back({out.name(), true});
  }
  return request;
}

// Every chosen output in raw_output_contents, as Triton answers.
void set_infer_response(const InferResponse& response, const InferRequest& request,
                        inference::ModelInferResponse& out) {
  out.set_model_name(response.model_name);
  out.set_model_version(response.model_version);
  out.set_id(response.id);
  set_parameters(response.parameters, *out.mutable_parameters());
  for (const ChosenOutput& c : select_outputs(response, request)) {
    auto* tensor = out.add_outputs();
    tensor->set_name(c.tensor->name);
    tensor->set_datatype(c.tensor->datatype);
    for (int64_t d : c.tensor->shape) tensor->add_shape(d);
    out.add_raw_output_contents(raw_tensor_bytes(*c.tensor));
  }
}

void set_tensor_metadata(const nlohmann::json& tensors,
                         google::protobuf::RepeatedPtrField<inference::ModelMetadataResponse::TensorMetadata>& out) {
  for (const nlohmann::json& t : tensors) {
    auto* m = out.Add();
    m->set_name(t["name"].get<std::string>());
    m->set_datatype(t["datatype"].get<std::string>());
    for (const nlohmann::json& d : t["shape"]) m->add_shape(d.get<int64_t>());
  }
}

std::string authorization_of(const grpc::ServerContext& context) {
  const auto& metadata = context.client_metadata();
  const auto it = metadata.find("authorization");
  return it == metadata.end() ? std::string() : std::string(it->second.data(), it->second.size());
}

// gRPC's own log lines (e.g. a bind that failed, which start() reports in one line of its own) at crowdrt's verbose
// level, so that they do not interleave with the server's output unless asked (-v).
void grpc_log_to_crowdrt(gpr_log_func_args* args) { log_verbose(cat("serve: gRPC: ", args->message)); }

}  // namespace

int grpc_status_of_http(int http_status) {
  switch (http_status) {
    case 400: return grpc::StatusCode::INVALID_ARGUMENT;
    case 401: return grpc::StatusCode::UNAUTHENTICATED;
    case 404: return grpc::StatusCode::NOT_FOUND;
    case 413:
    case 429: return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case 503: return grpc::StatusCode::UNAVAILABLE;
    default: return grpc::StatusCode::INTERNAL;
  }
}

// Each call: the token checked, the body run, its ProtocolError answered with the matching status, counted and timed
// in the metrics as the HTTP front's endpoint of the same name, with protocol="grpc".
class GrpcServer::Handlers final : public inference::GRPCInferenceService::Service {
 public:
  explicit Handlers(kserve::Service& service) : service_(service) {}

  grpc::Status ServerLive(grpc::ServerContext* context, const inference::ServerLiveRequest*,
                          inference::ServerLiveResponse* out) override {
    return call(*context, "health_live", [&](std::string&) { out->set_live(true); });
  }
  grpc::Status ServerReady(grpc::ServerContext* context, const inference::ServerReadyRequest*,
                           inference::ServerReadyResponse* out) override {
    return call(*context, "health_ready", [&](std::string&) { out->set_ready(service_.server_ready()); });
  }
  grpc::Status ModelReady(grpc::ServerContext* context, const inference::ModelReadyRequest* in,
                          inference::ModelReadyResponse* out) override {
    return call(*context, "model_ready", [&](std::string& label) {
      std::string why;
      out->set_ready(service_.model_ready(in->name(), in->version(), label, why));
    });
  }
  grpc::Status ServerMetadata(grpc::ServerContext* context, const inference::ServerMetadataRequest*,
                              inference::ServerMetadataResponse* out) override {
    return call(*context, "server_metadata", [&](std::string&) {
      const nlohmann::json j = service_.server_metadata();
      out->set_name(j["name"].get<std::string>());
      out->set_version(j["version"].get<std::string>());
      for (const nlohmann::json& e : j["extensions"]) out->add_extensions(e.get<std::string>());
    });
  }
  grpc::Status ModelMetadata(grpc::ServerContext* context, const inference::ModelMetadataRequest* in,
                             inference::ModelMetadataResponse* out) override {
    return call(*context, "model_metadata", [&](std::string& label) {
      const nlohmann::json j = service_.model_metadata(in->name(), in->version(), label);
      out->set_name(j["name"].get<std::string>());
      for (const nlohmann::json& v : j["versions"]) out->add_versions(v.get<std::string>());
      out->set_platform(j["platform"].get<std::string>());
      set_tensor_metadata(j["inputs"], *out->mutable_inputs());
      set_tensor_metadata(j["outputs"], *out->mutable_outputs());
    });
  }
  grpc::Status ModelInfer(grpc::ServerContext* context, const inference::ModelInferRequest* in,
                          inference::ModelInferResponse* out) override {
    return call(*context, "infer", [&](std::string& label) {
      const kserve::Service::Target target = service_.target(in->model_name(), in->model_version(), label);
      const InferRequest request = infer_request_of(*in);
      const InferResponse response = service_.infer(target, request);
      set_infer_response(response, request, *out);
    });
  }
  grpc::Status RepositoryIndex(grpc::ServerContext* context, const inference::RepositoryIndexRequest* in,
                               inference::RepositoryIndexResponse* out) override {
    return call(*context, "repository_index", [&](std::string&) {
      for (const IndexEntry& e : service_.index(in->ready())) {
        auto* m = out->add_models();
        m->set_name(e.name);
        m->set_version(e.version);
        m->set_state(e.state);
        m->set_reason(e.reason);
      }
    });
  }
  grpc::Status RepositoryModelLoad(grpc::ServerContext* context, const inference::RepositoryModelLoadRequest* in,
                                   inference::RepositoryModelLoadResponse*) override {
    return call(*context, "repository_load", [&](std::string& label) {
      no_repository_parameters(in->parameters_size());
      service_.load(in->model_name(), label);
    });
  }
  grpc::Status RepositoryModelUnload(grpc::ServerContext* context, const inference::RepositoryModelUnloadRequest* in,
                                     inference::RepositoryModelUnloadResponse*) override {
    return call(*context, "repository_unload", [&](std::string& label) {
      no_repository_parameters(in->parameters_size());
      service_.unload(in->model_name(), label);
    });
  }

 private:
  static void no_repository_parameters(int count) {
    if (count > 0)
      throw ProtocolError(400, "crowdrt takes no load / unload parameters (a model's settings are its config.json)");
  }

  template <class Body>
  grpc::Status call(grpc::ServerContext& context, const std::string& endpoint, Body body) {
    const auto start = GrpcClock::now();
    std::string label;
    grpc::Status status = grpc::Status::OK;
    try {
      // The live and ready probes need no token (Kubernetes probes carry none), as over HTTP.
      if (endpoint.rfind("health_", 0) != 0 && !service_.authorized(authorization_of(context)))
        throw ProtocolError(
            401, "this server needs the metadata 'authorization: Bearer <token>' (the token given to crowdrt serve)");
      body(label);
    } catch (const ProtocolError& e) {
      status = grpc::Status(static_cast<grpc::StatusCode>(grpc_status_of_http(e.status())), e.what());
    } catch (const std::bad_alloc&) {
      status = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                            "out of memory while serving this request; send smaller requests");
    } catch (const std::exception& e) {
      log_warn(cat("serve: gRPC ", endpoint, ": ", e.what()));
      status = grpc::Status(grpc::StatusCode::INTERNAL, e.what());
    }
    service_.metrics().request(label, endpoint, "grpc", !status.ok(),
                               std::chrono::duration<double>(GrpcClock::now() - start).count());
    return status;
  }

  kserve::Service& service_;
};

GrpcServer::GrpcServer(Service& service, GrpcOptions options)
    : service_(service), options_(std::move(options)), handlers_(std::make_unique<Handlers>(service)) {}

GrpcServer::~GrpcServer() { stop(); }

int GrpcServer::start() {
  gpr_set_log_function(grpc_log_to_crowdrt);
  const std::string host = options_.host.find(':') != std::string::npos ? "[" + options_.host + "]" : options_.host;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(cat(host, ":", options_.port), grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(handlers_.get());
  // Larger messages are refused with RESOURCE_EXHAUSTED before they reach a handler.
  builder.SetMaxReceiveMessageSize(static_cast<int>(std::min<size_t>(options_.max_request_bytes, INT_MAX)));
  // A port another server holds is an error, not shared (grpc sets SO_REUSEPORT by default).
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  grpc::ResourceQuota quota("crowdrt_serve");
  quota.SetMaxThreads(std::max(2, options_.threads));
  builder.SetResourceQuota(quota);
  server_ = builder.BuildAndStart();
  if (!server_ || port == 0) {
    server_.reset();
    throw Error(
        cat("cannot serve gRPC on ", options_.host, ":", options_.port,
            " (taken by another program, or not an address of this machine); choose another --grpc-port or --host"));
  }
  return port;
}

void GrpcServer::stop() {
  std::lock_guard lock(stop_mutex_);
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server_->Wait();
  server_.reset();
}

}  // namespace crowdrt::serve::kserve
