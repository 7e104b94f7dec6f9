// Execution of a compiled CUDA graph: the steps captured once as a CUDA graph and replayed; run() with its
// staging copies and device times (or the steps one by one between events for the per-layer profile);
// run_on_device() for callers whose inputs are already on the device (and the output sum for counting), and the
// waits for its results.
#include <cstring>

#include "backends/cuda/cuda_compiled_graph.h"

namespace crowdrt::cuda {

void CudaCompiledGraph::capture() {
  cudaGraph_t graph = nullptr;
  check(cudaStreamBeginCapture(stream_.get(), cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
  try {
    for (const Step& step : steps_) step.run(stream_.get());
  } catch (...) {
    cudaStreamEndCapture(stream_.get(), &graph);
    if (graph) cudaGraphDestroy(graph);
    throw;
  }
  check(cudaStreamEndCapture(stream_.get(), &graph), "cudaStreamEndCapture");
  Graph owned(graph);
  cudaGraphExec_t exec = nullptr;
  check(cudaGraphInstantiate(&exec, graph, 0), "cudaGraphInstantiate");
  exec_ = GraphExec(exec);
}

void CudaCompiledGraph::run(std::span<const float* const> inputs, std::span<float* const> outputs,
                            std::vector<double>* layer_ms) {
  cudaStream_t s = stream_.get();
  for (size_t i = 0; i < in_staging_.size(); ++i)
    std::memcpy(in_staging_[i].host.get(), inputs[i], in_staging_[i].bytes);
  check(cudaEventRecord(h2d_start_.get(), s), "cudaEventRecord");
  for (const Staging& st : in_staging_)
    check(cudaMemcpyAsync(st.device.get(), st.host.get(), st.bytes, cudaMemcpyHostToDevice, s), "input copy");
  check(cudaEventRecord(compute_start_.get(), s), "cudaEventRecord");
  if (layer_ms) {
    layer_ms->assign(steps_.size(), 0.0);
    std::vector<Event> marks;
    for (size_t i = 0; i <= steps_.size(); ++i) marks.push_back(make_event());
    check(cudaEventRecord(marks[0].get(), s), "cudaEventRecord");
    for (size_t i = 0; i < steps_.size(); ++i) {
      steps_[i].run(s);
      check(cudaEventRecord(marks[i + 1].get(), s), "cudaEventRecord");
    }
    check(cudaEventSynchronize(marks.back().get()), "profiled run");
    for (size_t i = 0; i < steps_.size(); ++i) {
      float ms = 0.f;
      check(cudaEventElapsedTime(&ms, marks[i].get(), marks[i + 1].get()), "cudaEventElapsedTime");
      (*layer_ms)[i] = ms;
    }
  } else {
    check(cudaGraphLaunch(exec_.get(), s), "cudaGraphLaunch");
  }
  check(cudaEventRecord(compute_end_.get(), s), "cudaEventRecord");
  for (const Staging& st : out_staging_)
    check(cudaMemcpyAsync(st.host.get(), st.device.get(), st.bytes, cudaMemcpyDeviceToHost, s), "output copy");
  check(cudaEventRecord(d2h_end_.get(), s), "cudaEventRecord");
  check(cudaEventSynchronize(d2h_end_.get()), "inference");
  check(cudaGetLastError(), "inference kernels");
  float h2d = 0.f, compute = 0.f, d2h = 0.f;
  check(cudaEventElapsedTime(&h2d, h2d_start_.get(), compute_start_.get()), "cudaEventElapsedTime");
  check(cudaEventElapsedTime(&compute, compute_start_.get(), compute_end_.get()), "cudaEventElapsedTime");
  check(cudaEventElapsedTime(&d2h, compute_end_.get(), d2h_end_.get()), "cudaEventElapsedTime");
  times_ = {h2d, compute, d2h};
  has_times_ = true;
  for (size_t i = 0; i < out_staging_.size(); ++i)
    std::memcpy(outputs[i], out_staging_[i].host.get(), out_staging_[i].bytes);
}

bool CudaCompiledGraph::device_io(DeviceIo* io) {
  io->stream = stream_.get();
  io->inputs.clear();
  io->outputs.clear();
  for (Staging& st : in_staging_) io->inputs.push_back(static_cast<float*>(st.device.get()));
  for (Staging& st : out_staging_) io->outputs.push_back(static_cast<const float*>(st.device.get()));
  return true;
}

void CudaCompiledGraph::run_on_device(bool sum_output) {
  cudaStream_t s = stream_.get();
  check(cudaEventRecord(compute_start_.get(), s), "cudaEventRecord");
  check(cudaGraphLaunch(exec_.get(), s), "cudaGraphLaunch");
  check(cudaEventRecord(compute_end_.get(), s), "cudaEventRecord");
  sum_queued_ = sum_output;
  if (sum_output) {
    if (!sum_scratch_) {
      sum_scratch_ = device_alloc(sizeof(double) * (kSumBlocks + 1), "the output sum");
      sum_host_ = pinned_alloc(sizeof(double), "the output sum");
    }
    double* partials = static_cast<double*>(sum_scratch_.get());
    launch_sum(static_cast<const float*>(out_staging_.at(0).device.get()),
               static_cast<int64_t>(out_staging_[0].bytes / sizeof(float)), partials, partials + kSumBlocks, s);
    check(cudaMemcpyAsync(sum_host_.get(), partials + kSumBlocks, sizeof(double), cudaMemcpyDeviceToHost, s),
          "copying the output sum");
  }
  check(cudaEventRecord(d2h_end_.get(), s), "cudaEventRecord");
  check(cudaGetLastError(), "inference kernels");
}

double CudaCompiledGraph::wait_output_sum() {
  if (!sum_queued_) throw Error("wait_output_sum: the last run_on_device did not sum its output");
  check(cudaEventSynchronize(d2h_end_.get()), "inference");
  float compute = 0.f;
  check(cudaEventElapsedTime(&compute, compute_start_.get(), compute_end_.get()), "cudaEventElapsedTime");
  times_ = {0.0, compute, 0.0};
  has_times_ = true;
  return *static_cast<const double*>(sum_host_.get());
}

void CudaCompiledGraph::wait_output(size_t index, float* host) {
  const Staging& st = out_staging_.at(index);
  check(cudaMemcpyAsync(st.host.get(), st.device.get(), st.bytes, cudaMemcpyDeviceToHost, stream_.get()),
        "output copy");
  check(cudaStreamSynchronize(stream_.get()), "inference");
  std::memcpy(host, st.host.get(), st.bytes);
}

}  // namespace crowdrt::cuda
