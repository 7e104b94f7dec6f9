// What the subcommands share: registration, the refusal to overwrite, thread and shape options.
#pragma once
#include <CLI/CLI.hpp>
#include <map>
#include <string>

#include "core/tensor.h"

namespace crowdrt::cli {

void register_build(CLI::App& app);
void register_infer(CLI::App& app);
void register_perf(CLI::App& app);
void register_inspect(CLI::App& app);
void register_synth(CLI::App& app);
void register_calib_data(CLI::App& app);
void register_preprocess(CLI::App& app);
void register_export(CLI::App& app);
void register_eval(CLI::App& app);
void register_run(CLI::App& app);
void register_bench(CLI::App& app);
void register_demo(CLI::App& app);

// Error unless the path is free or overwrite was asked for; never deletes anything itself.
void check_writable(const std::string& path, bool overwrite, const std::string& flag_hint = "--overwrite");
// "input:1x5x608x608" → {"input", {1,5,608,608}}; Error explaining the syntax otherwise.
std::pair<std::string, Shape> parse_input_shape(const std::string& text);

}  // namespace crowdrt::cli
