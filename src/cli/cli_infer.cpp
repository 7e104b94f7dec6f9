// crowdrt infer: one NCHW float32 .npy through a plan into another .npy.
#include <memory>

#include "cli/cli_common.h"
#include "core/atomic_file.h"
#include "core/npy.h"
#include "engine/runtime.h"

namespace crowdrt::cli {

void register_infer(CLI::App& app) {
  struct Args {
    std::string plan, input, output;
    int threads = 0;
    bool overwrite = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("infer", "Run a plan on one input tensor (.npy, NCHW float32)");
  cmd->add_option("--plan,--loadEngine", args->plan, "Plan file")->required();
  cmd->add_option("--input", args->input, "Input .npy (NCHW float32)")->required();
  cmd->add_option("--output", args->output, "Output .npy to write")->required();
  cmd->add_option("--threads", args->threads, "CPU threads (0: all cores; at most 4096)")->check(thread_count());
  cmd->add_flag("--overwrite", args->overwrite, "Replace the output file if it exists");
  cmd->callback([args] {
    check_writable(args->output, args->overwrite);
    const Tensor input = read_npy(args->input);
    Engine engine = Engine::load(args->plan, RuntimeOptions{args->threads});
    const Tensor output = engine.infer(input);
    OutputBatch outputs;
    write_npy(args->output, output);
    outputs.commit();
    const std::vector<float> v = output.to_float();
    double sum = 0;
    for (float x : v) sum += x;
    std::printf("wrote %s: %s, sum %.6g (count %.2f if this is a density map)\n", args->output.c_str(),
                shape_str(output.shape()).c_str(), sum, sum / 100.0);
  });
}

}  // namespace crowdrt::cli
