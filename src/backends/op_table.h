// What every backend's op table shares: its entries are found by op. Each backend defines its own entry type
// (cpu_op_table.h, reference_op_table.h, cuda_op_table.h); each has a member `op`.
#pragma once
#include <algorithm>
#include <span>

#include "ir/op.h"

namespace crowdrt {

// The entry of `op` in `table`, nullptr where the backend has none.
template <typename Entry>
const Entry* find_op_entry(std::span<const Entry> table, ir::Op op) {
  const auto it = std::find_if(table.begin(), table.end(), [op](const Entry& entry) { return entry.op == op; });
  return it == table.end() ? nullptr : &*it;
}

}  // namespace crowdrt
