// What the subcommands share: registration, the refusal to overwrite, thread and shape options.
#pragma once
#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <utility>
#include <vector>

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
void register_serve(CLI::App& app);

// Error unless the path is free or overwrite was asked for; never deletes anything itself.
void check_writable(const std::string& path, bool overwrite, const std::string& flag_hint = "--overwrite");
// "input:1x5x608x608" → {"input", {1,5,608,608}}; Error explaining the syntax otherwise.
std::pair<std::string, Shape> parse_input_shape(const std::string& text);

// Checks of option values, run while parsing, so that a bad value is a usage error (exit 2) naming the value:
// one of the words; comma-separated words each one of them; a backend device (cpu, cuda, ref).
CLI::Validator one_of(std::vector<std::string> words);
CLI::Validator list_of(std::vector<std::string> words);
CLI::Validator device_name();
// A number at least `low` (CLI11's NonNegativeNumber prints its upper bound, DBL_MAX, in 309 digits).
CLI::Validator at_least(double low);
// --threads: a whole number from 0 (every core) to kMaxThreads (backends/backend.h); libgomp crashes on more.
CLI::Validator thread_count();
// Sizes are WIDTHxHEIGHT everywhere ("608" is 608x608 where square_ok). Returns {width, height};
// CLI::ValidationError naming the flag and the value otherwise. The validator checks the same syntax.
std::pair<int, int> parse_width_height(const std::string& text, const std::string& flag, bool square_ok = false);
CLI::Validator width_by_height(bool square_ok = false);
// A network input size: both multiples of 32 (the encoder halves it five times), up to 16384.
void check_network_size(int width, int height, const std::string& flag);
// "448 wide, 256 high": how summaries print a size, so that its orientation cannot be misread.
std::string size_words(int64_t width, int64_t height);

}  // namespace crowdrt::cli
