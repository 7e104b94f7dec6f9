#include "backends/backend.h"

namespace crowdrt {

std::string Tactic::text() const {
  std::string more;
  const auto add = [&](const std::string& field) { more += (more.empty() ? "" : ", ") + field; };
  if (!precision.empty()) add("precision " + precision);
  if (!int8_io.empty()) add("int8_io " + int8_io);
  if (!fused.empty()) add("fused " + fused);
  if (reads_staging) add("reads_staging");
  if (more.empty()) return algorithm;
  return algorithm.empty() ? "(" + more + ")" : algorithm + " (" + more + ")";
}

Tactic node_tactic(const ir::Attributes& attrs) {
  Tactic t;
  t.algorithm = attrs.s("tactic", "");
  t.precision = attrs.s("tactic_precision", "");
  t.int8_io = attrs.s("tactic_int8_io", "");
  t.fused = attrs.s("tactic_fused", "");
  t.reads_staging = attrs.i("tactic_reads_staging", 0) != 0;
  return t;
}

void set_node_tactic(ir::Attributes& attrs, const Tactic& tactic) {
  const auto set = [&](const char* name, const std::string& value) {
    if (value.empty()) attrs.erase(name);
    else attrs.set(name, value);
  };
  set("tactic", tactic.algorithm);
  set("tactic_precision", tactic.precision);
  set("tactic_int8_io", tactic.int8_io);
  set("tactic_fused", tactic.fused);
  if (tactic.reads_staging) attrs.set("tactic_reads_staging", int64_t{1});
  else attrs.erase("tactic_reads_staging");
}

}  // namespace crowdrt
