// The restricted unpickler on hand-assembled pickles (opcodes: CPython's Lib/pickletools.py).
#include <gtest/gtest.h>

#include <string>

#include "checkpoint/unpickler.h"
#include "checkpoint_files.h"

using namespace crowdrt;
using namespace crowdrt::checkpoint;
using namespace crowdrt::checkpoint::testing;
using namespace std::string_literals;

namespace {

std::span<const std::byte> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
std::string unpickle_error(const std::string& pickle) {
  return error_of([&] { pickle::unpickle(bytes_of(pickle), "p.pkl"); });
}

// A persistent id ('storage', torch.FloatStorage, '0', 'cpu', numel) followed by BINPERSID.
std::string float_storage(uint8_t numel) {
  return "(X\x07\x00\x00\x00" "storagectorch\nFloatStorage\nX\x01\x00\x00\x00" "0X\x03\x00\x00\x00" "cpuK"s +
         char(numel) + "tQ";
}

}  // namespace

TEST(Unpickler, BuildsContainersAndScalars) {
  // {'a': [1, -2, 3.5, True, None, 'x'], 'b': (300, 70000)} in protocol 2.
  const std::string p = "\x80\x02}q\x00(X\x01\x00\x00\x00" "a]q\x01(K\x01J\xfe\xff\xff\xff"
                        "G\x40\x0c\x00\x00\x00\x00\x00\x00" "\x88N\x8c\x01xeX\x01\x00\x00\x00"
                        "bM\x2c\x01\x8a\x03\x70\x11\x01\x86u."s;
  const pickle::Pickle result = pickle::unpickle(bytes_of(p), "p.pkl");
  const pickle::Object& root = result.root();
  ASSERT_EQ(root.kind, pickle::Kind::dict);
  ASSERT_EQ(root.dict_size(), 2u);
  const pickle::Object& list = *root.items[1];
  ASSERT_EQ(list.kind, pickle::Kind::list);
  ASSERT_EQ(list.items.size(), 6u);
  EXPECT_EQ(list.items[0]->integer, 1);
  EXPECT_EQ(list.items[1]->integer, -2);
  EXPECT_EQ(list.items[2]->real, 3.5);
  EXPECT_TRUE(list.items[3]->boolean);
  EXPECT_EQ(list.items[4]->kind, pickle::Kind::none);
  EXPECT_EQ(list.items[5]->text, "x");
  const pickle::Object& tuple = *root.items[3];
  ASSERT_EQ(tuple.items.size(), 2u);
  EXPECT_EQ(tuple.items[0]->integer, 300);
  EXPECT_EQ(tuple.items[1]->integer, 70000);
}

TEST(Unpickler, RebuildsATensorFromItsStoragePersistentId) {
  // _rebuild_tensor_v2(storage, 1, (2,), (2,), False, OrderedDict())
  const std::string p = "\x80\x02" "ctorch._utils\n_rebuild_tensor_v2\n(" + float_storage(6) +
                        "K\x01K\x02\x85K\x02\x85\x89" "ccollections\nOrderedDict\n)RtR.";
  const pickle::Pickle result = pickle::unpickle(bytes_of(p), "p.pkl");
  const pickle::Object& tensor = result.root();
  ASSERT_EQ(tensor.kind, pickle::Kind::tensor);
  EXPECT_EQ(tensor.dtype, DType::f32);
  EXPECT_EQ(tensor.integer, 1);
  EXPECT_EQ(tensor.sizes, std::vector<int64_t>{2});
  EXPECT_EQ(tensor.strides, std::vector<int64_t>{2});
  EXPECT_EQ(tensor.items[0]->text, "0");
  EXPECT_EQ(tensor.items[0]->integer, 6);
}

TEST(Unpickler, RefusesEveryOtherGlobalByName) {
  EXPECT_TRUE(contains(unpickle_error("\x80\x02" "cos\nsystem\n."), "p.pkl: refuses to load global 'os.system'"));
  EXPECT_TRUE(contains(unpickle_error("\x80\x02" "c__builtin__\neval\n."), "global '__builtin__.eval'"));
  EXPECT_TRUE(contains(unpickle_error("\x80\x04\x8c\x08" "builtins\x8c\x04" "exec\x93."), "global 'builtins.exec'"));
  EXPECT_TRUE(contains(unpickle_error("\x80\x02" "ctorch\nload\n."), "global 'torch.load'"));
  EXPECT_TRUE(contains(unpickle_error("iposix\nsystem\n."), "global 'posix.system'"));
}

TEST(Unpickler, CallsOnlyWhatItAllowsWithTheRightArguments) {
  // A storage type is not callable; OrderedDict takes no arguments here; REDUCE of a string is no call.
  EXPECT_TRUE(contains(unpickle_error("\x80\x02" "ctorch\nFloatStorage\n)R."), "a call of torch.FloatStorage"));
  EXPECT_TRUE(contains(unpickle_error("\x80\x02" "ccollections\nOrderedDict\nK\x01\x85R."), "OrderedDict called"));
  EXPECT_TRUE(contains(unpickle_error("\x80\x02X\x01\x00\x00\x00x)R."s), "a call of a str"));
}

TEST(Unpickler, MalformedPicklesAreErrorsNamingTheByte) {
  EXPECT_TRUE(contains(unpickle_error(""), "p.pkl: damaged pickle (the pickle ends early at byte 0)"));
  EXPECT_TRUE(contains(unpickle_error("\x80\x02]"), "ends early"));                        // no STOP
  EXPECT_TRUE(contains(unpickle_error("\x80\x02h\x05."s), "memo entry 5 read before"));      // BINGET
  EXPECT_TRUE(contains(unpickle_error("\x80\x02."), "stack is empty"));                     // STOP on nothing
  EXPECT_TRUE(contains(unpickle_error("\x80\x02(a."), "stack is empty"));                   // APPEND below MARK
  EXPECT_TRUE(contains(unpickle_error("\x80\x02K\x00K\x01K\x02s."s), "SETITEM on a int"));
  EXPECT_TRUE(contains(unpickle_error("\x80\x02X\xff\xff\xff\x7f" "ab."), "runs past the end"));
  EXPECT_TRUE(contains(unpickle_error("\x80\x02\x8a\x09" "123456789."), "integer of 9 bytes"));
  EXPECT_TRUE(contains(unpickle_error("\x80\x06."), "pickle protocol 6"));
  EXPECT_TRUE(contains(unpickle_error("\x80\x02I1\n."), "opcode 0x49"));  // protocol 0 INT
  EXPECT_TRUE(contains(unpickle_error("\x80\x02]K\x01\x62."), "BUILD on a list"));
}

TEST(Unpickler, NestingAndStackHaveLimits) {
  EXPECT_TRUE(contains(unpickle_error("\x80\x02" + std::string(70000, '(')), "MARKs nest past their limit"));
  EXPECT_TRUE(contains(unpickle_error("\x80\x02N" + std::string(1100000, '2')), "stack grows past its limit"));
}

TEST(Unpickler, SelfReferenceIsHeldWithoutRecursion) {
  // l = []; l.append(l): the list holds itself; building and destroying it must terminate.
  const pickle::Pickle result = pickle::unpickle(bytes_of("\x80\x02]q\x00h\x00" "a."s), "p.pkl");
  EXPECT_EQ(result.root().items.at(0), &result.root());
}
