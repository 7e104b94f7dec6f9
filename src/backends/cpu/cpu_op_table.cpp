// The CPU backend's op table: one line per compute op. The entries are made in the ops' files; they are called
// here, not registered by static objects there, because the linker drops a static library's objects that
// nothing references.
#include "backends/cpu/cpu_op_table.h"

#include <array>

#include "backends/op_table.h"

namespace crowdrt::cpu {

// Made at the end of each op's file.
OpEntry conv_entry();            // cpu_conv.cpp
OpEntry conv_transpose_entry();  // cpu_conv.cpp
OpEntry batch_normalization_entry();
OpEntry activation_entry(ir::Op op);  // Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish, Identity
OpEntry binary_entry(ir::Op op);      // Add, Sub, Mul, Div
OpEntry concat_entry();
OpEntry pool_entry(ir::Op op);  // MaxPool, AveragePool, GlobalAveragePool
OpEntry reduce_mean_entry();
OpEntry resize_entry();
OpEntry pad_entry();

std::span<const OpEntry> op_table() {
  using ir::Op;
  static const std::array table{
      conv_entry(),
      conv_transpose_entry(),
      batch_normalization_entry(),
      activation_entry(Op::Relu),
      activation_entry(Op::LeakyRelu),
      activation_entry(Op::Clip),
      activation_entry(Op::Sigmoid),
      activation_entry(Op::HardSigmoid),
      activation_entry(Op::HardSwish),
      activation_entry(Op::Identity),
      binary_entry(Op::Add),
      binary_entry(Op::Sub),
      binary_entry(Op::Mul),
      binary_entry(Op::Div),
      concat_entry(),
      pool_entry(Op::MaxPool),
      pool_entry(Op::AveragePool),
      pool_entry(Op::GlobalAveragePool),
      reduce_mean_entry(),
      resize_entry(),
      pad_entry(),
  };
  return table;
}

const OpEntry* find_op(ir::Op op) { return find_op_entry(op_table(), op); }

}  // namespace crowdrt::cpu
