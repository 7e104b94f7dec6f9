// IR → ONNX export: the forms each opset needs, ONNX's checker, and the round trip export → import →
// fold_constants giving back the same graph (same ops in order, same attributes, same weights).
#include <gtest/gtest.h>

#include <cstring>

#include "ir/passes/passes.h"
#include "models/smp_model.h"
#include "onnx/export.h"
#include "onnx/import.h"
#include "../test_util.h"

namespace crowdrt::onnx_export {
namespace {

ir::Graph small_model(const std::string& encoder, models::Arch arch = models::Arch::unet, int64_t channels = 5) {
  const models::ModelSpec spec{arch, encoder, channels, 64, 96};
  checkpoint::StateDict w = models::expected_state_dict(spec);
  float x = 0.f;  // distinct values, so that a weight landing in the wrong slot shows
  for (auto& [key, t] : w.entries)
    for (float& v : t.span<float>()) v = (x += 0.37f) > 10.f ? (x = -9.f) : x;
  return models::build_smp_model(spec, w);
}

const onnx::NodeProto* first(const onnx::ModelProto& m, const std::string& op) {
  for (const onnx::NodeProto& n : m.graph().node())
    if (n.op_type() == op) return &n;
  return nullptr;
}

const onnx::AttributeProto* attr(const onnx::NodeProto& n, const std::string& name) {
  for (const onnx::AttributeProto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

using crowdrt::test_util::error_of;

ir::Graph round_trip(const onnx::ModelProto& model) {
  std::string bytes;
  EXPECT_TRUE(model.SerializeToString(&bytes));
  return ir::fold_constants(onnx_import::import_onnx_bytes(
      std::span<const std::byte>(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()), "exported"));
}

void expect_same_graph(const ir::Graph& a, const ir::Graph& b) {
  ASSERT_EQ(a.nodes().size(), b.nodes().size());
  for (size_t i = 0; i < a.nodes().size(); ++i) {
    const ir::Node &x = a.nodes()[i], &y = b.nodes()[i];
    SCOPED_TRACE(x.name);
    EXPECT_EQ(x.op, y.op);
    EXPECT_EQ(x.name, y.name);
    for (const auto& [name, value] : x.attrs.all()) {
      ASSERT_TRUE(y.attrs.has(name)) << name;
      EXPECT_TRUE(y.attrs.all().at(name) == value) << name;
    }
    ASSERT_EQ(x.inputs.size(), y.inputs.size());
    for (size_t k = 0; k < x.inputs.size(); ++k) {
      const ir::Value &vx = a.value(x.inputs[k]), &vy = b.value(y.inputs[k]);
      EXPECT_EQ(vx.name, vy.name);
      EXPECT_EQ(vx.shape, vy.shape);
      if (vx.is_constant()) {
        ASSERT_TRUE(vy.is_constant());
        ASSERT_EQ(vx.data->bytes(), vy.data->bytes());
        EXPECT_EQ(std::memcmp(vx.data->raw(), vy.data->raw(), vx.data->bytes()), 0) << vx.name;
      }
    }
  }
  EXPECT_EQ(a.value(a.outputs()[0]).shape, b.value(b.outputs()[0]).shape);
}

TEST(OnnxExport, RoundTripGivesTheSameGraphForEveryEncoderFamilyAndOpset) {
  const std::pair<const char*, int> cases[] = {{"resnet18", 11}, {"mobilenet_v2", 13}, {"efficientnet-b0", 17},
                                               {"resnet50", 12}};
  for (const auto& [encoder, opset] : cases) {
    SCOPED_TRACE(cat(encoder, " opset ", opset));
    const ir::Graph g = small_model(encoder);
    ExportOptions o;
    o.opset = opset;
    const onnx::ModelProto m = export_onnx(g, o);
    EXPECT_EQ(m.opset_import(0).version(), opset);
    EXPECT_EQ(m.ir_version(), ir_version_for_opset(opset));
    expect_same_graph(g, round_trip(m));
  }
  expect_same_graph(small_model("resnet18", models::Arch::unetplusplus),
                    round_trip(export_onnx(small_model("resnet18", models::Arch::unetplusplus))));
}

TEST(OnnxExport, ModelHasTheSeedsInputOutputAndFloat32RawWeights) {
  const onnx::ModelProto m = export_onnx(small_model("resnet18"));
  ASSERT_EQ(m.graph().input_size(), 1);
  EXPECT_EQ(m.graph().input(0).name(), "input");
  const auto& dims = m.graph().input(0).type().tensor_type().shape().dim();
  ASSERT_EQ(dims.size(), 4);
  EXPECT_EQ(dims[0].dim_value(), 1);
  EXPECT_EQ(dims[1].dim_value(), 5);
  EXPECT_EQ(dims[2].dim_value(), 64);
  EXPECT_EQ(dims[3].dim_value(), 96);
  EXPECT_EQ(m.graph().output(0).name(), "output");
  for (const onnx::TensorProto& t : m.graph().initializer())
    if (t.name() == "encoder.conv1.weight") {
      EXPECT_EQ(t.data_type(), onnx::TensorProto::FLOAT);
      EXPECT_EQ(t.raw_data().size(), 64u * 5 * 7 * 7 * 4);
    }
  EXPECT_NE(first(m, "BatchNormalization"), nullptr);
}

TEST(OnnxExport, ResizeClipPadAndReduceMeanTakeEachOpsetsForm) {
  const ir::Graph mobilenet = small_model("mobilenet_v2");
  const ir::Graph efficientnet = small_model("efficientnet-b0");
  for (int opset : {11, 13, 17}) {
    SCOPED_TRACE(opset);
    ExportOptions o;
    o.opset = opset;
    const onnx::ModelProto m = export_onnx(mobilenet, o);
    const onnx::NodeProto* resize = first(m, "Resize");
    ASSERT_NE(resize, nullptr);
    ASSERT_EQ(resize->input_size(), 3);  // X, roi, scales
    EXPECT_EQ(resize->input(1).empty(), opset >= 13);  // roi is optional from 13 on
    EXPECT_EQ(attr(*resize, "coordinate_transformation_mode")->s(), "asymmetric");
    EXPECT_EQ(attr(*resize, "nearest_mode")->s(), "floor");
    EXPECT_EQ(attr(*resize, "mode")->s(), "nearest");
    const onnx::NodeProto* clip = first(m, "Clip");
    ASSERT_NE(clip, nullptr);
    EXPECT_EQ(clip->input_size(), 3);  // min and max as inputs since opset 11
    EXPECT_EQ(clip->attribute_size(), 0);

    const onnx::ModelProto e = export_onnx(efficientnet, o);
    const onnx::NodeProto* mean = first(e, "ReduceMean");
    ASSERT_NE(mean, nullptr);
    EXPECT_EQ(attr(*mean, "axes")->ints_size(), 2);
    const onnx::NodeProto* pad = first(e, "Pad");
    ASSERT_NE(pad, nullptr);
    EXPECT_EQ(pad->input_size(), 2);  // pads as an input; constant 0 needs no value input
    EXPECT_EQ(attr(*pad, "mode")->s(), "constant");
  }
}

TEST(OnnxExport, RefusesOpsetsOutside11To17AndGraphsAfterFusion) {
  ExportOptions o;
  o.opset = 10;
  EXPECT_NE(error_of([&] { export_onnx(small_model("resnet18"), o); }).find("choose 11 to 17"), std::string::npos);
  o.opset = 18;
  EXPECT_NE(error_of([&] { export_onnx(small_model("resnet18"), o); }).find("choose 11 to 17"), std::string::npos);
  const ir::Graph fused = ir::fuse_activation(ir::fold_batchnorm(small_model("resnet18")));
  EXPECT_NE(error_of([&] { export_onnx(fused); }).find("before the fusion passes"), std::string::npos);
}

TEST(OnnxExport, FoldedBatchNormGraphStillExportsAndChecks) {
  const ir::Graph folded = ir::fold_batchnorm(small_model("resnet34"));
  const onnx::ModelProto m = export_onnx(folded);
  EXPECT_EQ(first(m, "BatchNormalization"), nullptr);
  expect_same_graph(folded, round_trip(m));
}

}  // namespace
}  // namespace crowdrt::onnx_export
