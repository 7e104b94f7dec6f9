// A pickle virtual machine that only builds data. Opcodes and their encodings: CPython's
// Lib/pickletools.py; what torch.save emits for tensors and storages: torch/serialization.py and
// torch/_utils.py. Nothing here can import a module or call a function: GLOBAL/STACK_GLOBAL look the
// name up in a short table of what a state_dict needs and refuse the rest, and REDUCE/NEWOBJ only
// "call" those table entries by building plain objects.
#include "checkpoint/unpickler.h"

#include <cstring>
#include <optional>
#include <unordered_map>
#include <utility>

namespace crowdrt::checkpoint::pickle {

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::none: return "None";
    case Kind::boolean: return "bool";
    case Kind::integer: return "int";
    case Kind::real: return "float";
    case Kind::string: return "str";
    case Kind::bytes: return "bytes";
    case Kind::tuple: return "tuple";
    case Kind::list: return "list";
    case Kind::dict: return "dict";
    case Kind::global: return "global";
    case Kind::storage: return "storage";
    case Kind::tensor: return "tensor";
  }
  return "?";
}

namespace {

// Limits against hostile files; a real state_dict pickle stays far below each.
constexpr size_t max_stack = size_t{1} << 20;
constexpr size_t max_marks = size_t{1} << 16;
constexpr size_t max_memo = size_t{1} << 22;
constexpr size_t max_objects = size_t{1} << 24;

struct AllowedGlobal {
  const char* module;
  const char* name;
  Callable callable;
  DType dtype;
};

// torch.save of a state_dict names exactly these (torch 1.6 – 2.x); the storage classes carry the
// element type of the tensors built on them.
constexpr AllowedGlobal allowed_globals[] = {
    {"collections", "OrderedDict", Callable::ordered_dict, DType::f32},
    {"torch._utils", "_rebuild_tensor_v2", Callable::rebuild_tensor_v2, DType::f32},
    {"torch._utils", "_rebuild_parameter", Callable::rebuild_parameter, DType::f32},
    {"torch._utils", "_rebuild_parameter_with_state", Callable::rebuild_parameter_with_state, DType::f32},
    {"torch", "Size", Callable::torch_size, DType::f32},
    {"torch", "FloatStorage", Callable::storage_type, DType::f32},
    {"torch", "HalfStorage", Callable::storage_type, DType::f16},
    {"torch", "BFloat16Storage", Callable::storage_type, DType::bf16},
    {"torch", "DoubleStorage", Callable::storage_type, DType::f64},
    {"torch", "LongStorage", Callable::storage_type, DType::i64},
    {"torch", "IntStorage", Callable::storage_type, DType::i32},
    {"torch", "CharStorage", Callable::storage_type, DType::i8},
    {"torch", "ByteStorage", Callable::storage_type, DType::u8},
    {"torch", "BoolStorage", Callable::storage_type, DType::boolean},
};

class Machine {
 public:
  Machine(std::span<const std::byte> bytes, const std::string& what, std::deque<Object>& objects)
      : bytes_(bytes), what_(what), objects_(objects) {}

  Object* run() {
    none_ = make(Kind::none);
    while (true) {
      const size_t at = pos_;
      const uint8_t op = read_u8();
      opcode_at_ = at;
      if (op == '.') {  // STOP
        if (!marks_.empty()) fail("STOP inside an open MARK");
        return pop();
      }
      step(op);
    }
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw Error(cat(what_, ": damaged pickle (", problem, " at byte ", opcode_at_,
                    "); the file is not a checkpoint torch.save wrote, re-save it with torch.save"));
  }

  // ---- reading the byte stream ----
  void need(size_t n) const {
    if (n > bytes_.size() - pos_) fail("the pickle ends early");
  }
  uint8_t read_u8() {
    need(1);
    return static_cast<uint8_t>(bytes_[pos_++]);
  }
  uint64_t read_le(size_t n) {
    need(n);
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= uint64_t(static_cast<uint8_t>(bytes_[pos_ + i])) << (8 * i);
    pos_ += n;
    return v;
  }
  std::string read_text(uint64_t n) {
    if (n > bytes_.size() - pos_) fail("a string runs past the end of the pickle");
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return s;
  }
  std::string read_line() {  // GLOBAL's "module\nname\n"
    size_t end = pos_;
    while (end < bytes_.size() && bytes_[end] != std::byte{'\n'}) ++end;
    if (end == bytes_.size()) fail("a line runs past the end of the pickle");
    std::string s = read_text(end - pos_);
    ++pos_;
    return s;
  }
  // Two's complement little-endian, as LONG1/LONG4 store it.
  int64_t read_long(uint64_t n) {
    if (n > 8) fail(cat("an integer of ", n, " bytes (crowdrt reads integers up to 64 bits)"));
    if (n == 0) return 0;
    uint64_t v = read_le(static_cast<size_t>(n));
    if (n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);
    return static_cast<int64_t>(v);
  }

  // ---- objects, stack, marks, memo ----
  Object* make(Kind kind) {
    if (objects_.size() >= max_objects) fail("too many objects");
    objects_.emplace_back();
    objects_.back().kind = kind;
    return &objects_.back();
  }
  Object* make_integer(int64_t v) {
    Object* o = make(Kind::integer);
    o->integer = v;
    return o;
  }
  Object* make_text(Kind kind, std::string s) {
    Object* o = make(kind);
    o->text = std::move(s);
    return o;
  }
  void push(Object* o) {
    if (stack_.size() >= max_stack) fail("the pickle stack grows past its limit");
    stack_.push_back(o);
  }
  Object* pop() {
    if (stack_.size() <= stack_floor()) fail("the pickle stack is empty");
    Object* o = stack_.back();
    stack_.pop_back();
    return o;
  }
  Object* top() {
    if (stack_.size() <= stack_floor()) fail("the pickle stack is empty");
    return stack_.back();
  }
  size_t stack_floor() const { return marks_.empty() ? 0 : marks_.back(); }
  std::vector<Object*> pop_to_mark() {
    if (marks_.empty()) fail("no MARK to pop to");
    std::vector<Object*> items(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  void memo_put(uint64_t index) {
    if (memo_.size() >= max_memo && !memo_.count(index)) fail("the memo grows past its limit");
    memo_[index] = top();
  }
  void memo_get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) fail(cat("memo entry ", index, " read before it was written"));
    push(it->second);
  }

  Object* make_tuple(std::vector<Object*> items) {
    Object* o = make(Kind::tuple);
    o->items = std::move(items);
    return o;
  }
  Object* expect(Object* o, Kind kind, const char* role) {
    if (o->kind != kind) fail(cat(role, " is a ", kind_name(o->kind), ", not a ", kind_name(kind)));
    return o;
  }
  void append_to(Object* container, const std::vector<Object*>& items) {
    if (container->kind != Kind::list) fail(cat("APPEND to a ", kind_name(container->kind)));
    container->items.insert(container->items.end(), items.begin(), items.end());
  }
  void set_items(Object* dict, const std::vector<Object*>& pairs) {
    if (dict->kind != Kind::dict) fail(cat("SETITEM on a ", kind_name(dict->kind)));
    if (pairs.size() % 2 != 0) fail("SETITEMS with an odd number of items");
    dict->items.insert(dict->items.end(), pairs.begin(), pairs.end());
  }

  // ---- globals: a lookup in allowed_globals, never an import ----
  Object* global(const std::string& module, const std::string& name) {
    for (const AllowedGlobal& g : allowed_globals) {
      if (module == g.module && name == g.name) {
        Object* o = make_text(Kind::global, module + "." + name);
        o->callable = g.callable;
        o->dtype = g.dtype;
        return o;
      }
    }
    if (module == "torch._utils" && name == "_rebuild_tensor_v3")
      throw Error(cat(what_, ": holds a tensor of a dtype crowdrt does not read (torch._utils._rebuild_tensor_v3: "
                      "float8, uint16/32/64 or bits types); convert it to float32 or float16 before torch.save"));
    throw Error(cat(what_, ": refuses to load global '", module, ".", name,
                    "': checkpoints may only hold tensors; nothing in it was run (save model.state_dict(), "
                    "not a model object, if this is your own file)"));
  }

  // REDUCE and NEWOBJ: "calling" an allowed global builds data from its arguments.
  Object* call(Object* callable, Object* args) {
    if (callable->kind != Kind::global) fail(cat("a call of a ", kind_name(callable->kind)));
    expect(args, Kind::tuple, "call arguments");
    const std::vector<Object*>& a = args->items;
    switch (callable->callable) {
      case Callable::ordered_dict:
        if (!a.empty()) fail("OrderedDict called with arguments");
        return make(Kind::dict);
      case Callable::torch_size: {
        if (a.size() != 1) fail("torch.Size called without one tuple");
        Object* dims = a[0];
        if (dims->kind != Kind::tuple && dims->kind != Kind::list) fail("torch.Size of a non-sequence");
        for (Object* d : dims->items) expect(d, Kind::integer, "a torch.Size entry");
        return make_tuple(dims->items);
      }
      case Callable::rebuild_tensor_v2: return rebuild_tensor(a);
      case Callable::rebuild_parameter:
      case Callable::rebuild_parameter_with_state:  // (data, requires_grad, backward_hooks[, state])
        if (a.size() != (callable->callable == Callable::rebuild_parameter ? 3u : 4u))
          fail(cat(callable->text, " called with ", a.size(), " arguments"));
        return expect(a[0], Kind::tensor, "a Parameter's data");
      case Callable::storage_type: fail(cat("a call of ", callable->text));
    }
    fail("a call of an unknown global");
  }

  // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  Object* rebuild_tensor(const std::vector<Object*>& a) {
    if (a.size() != 6 && a.size() != 7) fail(cat("_rebuild_tensor_v2 called with ", a.size(), " arguments"));
    Object* storage = expect(a[0], Kind::storage, "a tensor's storage");
    Object* t = make(Kind::tensor);
    t->items = {storage};
    t->dtype = storage->dtype;
    t->integer = expect(a[1], Kind::integer, "a tensor's storage offset")->integer;
    t->sizes = integers(a[2], "a tensor's size");
    t->strides = integers(a[3], "a tensor's stride");
    return t;
  }
  std::vector<int64_t> integers(Object* o, const char* role) {
    if (o->kind != Kind::tuple && o->kind != Kind::list) fail(cat(role, " is a ", kind_name(o->kind)));
    std::vector<int64_t> v;
    for (Object* i : o->items) v.push_back(expect(i, Kind::integer, role)->integer);
    return v;
  }

  // BINPERSID: torch.save's persistent id for storages, ('storage', type, key, location, numel).
  Object* persistent_load(Object* pid) {
    expect(pid, Kind::tuple, "a persistent id");
    const std::vector<Object*>& p = pid->items;
    if (p.size() != 5 || p[0]->kind != Kind::string || p[0]->text != "storage")
      fail("a persistent id that is not ('storage', type, key, location, numel)");
    Object* type = expect(p[1], Kind::global, "a storage type");
    if (type->callable != Callable::storage_type) fail(cat(type->text, " used as a storage type"));
    Object* s = make(Kind::storage);
    s->dtype = type->dtype;
    s->text = expect(p[2], Kind::string, "a storage key")->text;
    expect(p[3], Kind::string, "a storage location");
    s->integer = expect(p[4], Kind::integer, "a storage size")->integer;
    if (s->integer < 0) fail("a storage of negative size");
    return s;
  }

  void step(uint8_t op) {
    switch (op) {
      case 0x80: {  // PROTO
        const uint8_t version = read_u8();
        if (version > 5) fail(cat("pickle protocol ", int(version)));
        return;
      }
      case 0x95: read_le(8); return;  // FRAME: a length hint for buffering; the opcodes inside are ordinary
      case '(':  // MARK
        if (marks_.size() >= max_marks) fail("MARKs nest past their limit");
        marks_.push_back(stack_.size());
        return;
      case '0': pop(); return;             // POP
      case '1': pop_to_mark(); return;     // POP_MARK
      case '2': push(top()); return;       // DUP
      case 'N': push(none_); return;       // NONE
      case 0x88: case 0x89: {              // NEWTRUE, NEWFALSE
        Object* o = make(Kind::boolean);
        o->boolean = op == 0x88;
        push(o);
        return;
      }
      case 'J': push(make_integer(static_cast<int32_t>(read_le(4)))); return;  // BININT
      case 'K': push(make_integer(read_le(1))); return;                       // BININT1
      case 'M': push(make_integer(read_le(2))); return;                       // BININT2
      case 0x8a: push(make_integer(read_long(read_le(1)))); return;           // LONG1
      case 0x8b: push(make_integer(read_long(read_le(4)))); return;           // LONG4
      case 'G': {                                                             // BINFLOAT, big-endian
        const uint64_t be = read_le(8);
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits |= ((be >> (8 * i)) & 0xff) << (8 * (7 - i));
        Object* o = make(Kind::real);
        std::memcpy(&o->real, &bits, 8);
        push(o);
        return;
      }
      case 0x8c: push(make_text(Kind::string, read_text(read_le(1)))); return;  // SHORT_BINUNICODE
      case 'X': push(make_text(Kind::string, read_text(read_le(4)))); return;   // BINUNICODE
      case 0x8d: push(make_text(Kind::string, read_text(read_le(8)))); return;  // BINUNICODE8
      case 'U': push(make_text(Kind::bytes, read_text(read_le(1)))); return;    // SHORT_BINSTRING
      case 'T': push(make_text(Kind::bytes, read_text(read_le(4)))); return;    // BINSTRING
      case 'C': push(make_text(Kind::bytes, read_text(read_le(1)))); return;    // SHORT_BINBYTES
      case 'B': push(make_text(Kind::bytes, read_text(read_le(4)))); return;    // BINBYTES
      case 0x8e: case 0x96:                                                     // BINBYTES8, BYTEARRAY8
        push(make_text(Kind::bytes, read_text(read_le(8))));
        return;
      case ')': push(make(Kind::tuple)); return;  // EMPTY_TUPLE
      case 't': push(make_tuple(pop_to_mark())); return;  // TUPLE
      case 0x85: case 0x86: case 0x87: {  // TUPLE1, TUPLE2, TUPLE3
        std::vector<Object*> items(op - 0x84);
        for (size_t i = items.size(); i-- > 0;) items[i] = pop();
        push(make_tuple(std::move(items)));
        return;
      }
      case ']': case 0x8f: push(make(Kind::list)); return;  // EMPTY_LIST, EMPTY_SET (read as a list)
      case 'l': case 0x91: {                                // LIST, FROZENSET
        Object* o = make(Kind::list);
        o->items = pop_to_mark();
        push(o);
        return;
      }
      case 'a': {  // APPEND
        Object* item = pop();
        append_to(top(), {item});
        return;
      }
      case 'e': case 0x90: {  // APPENDS, ADDITEMS
        std::vector<Object*> items = pop_to_mark();
        append_to(top(), items);
        return;
      }
      case '}': push(make(Kind::dict)); return;  // EMPTY_DICT
      case 'd': {                                // DICT
        Object* o = make(Kind::dict);
        std::vector<Object*> pairs = pop_to_mark();
        set_items(o, pairs);
        push(o);
        return;
      }
      case 's': {  // SETITEM
        Object* value = pop();
        Object* key = pop();
        set_items(top(), {key, value});
        return;
      }
      case 'u': {  // SETITEMS
        std::vector<Object*> pairs = pop_to_mark();
        set_items(top(), pairs);
        return;
      }
      case 'q': memo_put(read_le(1)); return;       // BINPUT
      case 'r': memo_put(read_le(4)); return;       // LONG_BINPUT
      case 0x94: memo_put(memo_.size()); return;    // MEMOIZE
      case 'h': memo_get(read_le(1)); return;       // BINGET
      case 'j': memo_get(read_le(4)); return;       // LONG_BINGET
      case 'c': {                                   // GLOBAL
        std::string module = read_line();
        std::string name = read_line();
        push(global(module, name));
        return;
      }
      case 0x93: {  // STACK_GLOBAL
        Object* name = expect(pop(), Kind::string, "STACK_GLOBAL's name");
        Object* module = expect(pop(), Kind::string, "STACK_GLOBAL's module");
        push(global(module->text, name->text));
        return;
      }
      case 'i': {  // INST names its class inline: refuse it by name like GLOBAL does
        std::string module = read_line();
        std::string name = read_line();
        global(module, name);
        fail(cat("INST of ", module, ".", name));
      }
      case 'R': {  // REDUCE
        Object* args = pop();
        Object* callable = pop();
        push(call(callable, args));
        return;
      }
      case 0x81: {  // NEWOBJ: cls.__new__(cls, *args)
        Object* args = pop();
        Object* cls = pop();
        push(call(cls, args));
        return;
      }
      case 0x92: {  // NEWOBJ_EX: cls, args, kwargs
        Object* kwargs = expect(pop(), Kind::dict, "NEWOBJ_EX keyword arguments");
        if (kwargs->dict_size() != 0) fail("NEWOBJ_EX with keyword arguments");
        Object* args = pop();
        Object* cls = pop();
        push(call(cls, args));
        return;
      }
      case 'b': {  // BUILD: only an OrderedDict's state (state_dict()'s _metadata) is accepted, and dropped
        pop();
        Object* target = top();
        if (target->kind != Kind::dict) fail(cat("BUILD on a ", kind_name(target->kind)));
        return;
      }
      case 'Q': push(persistent_load(pop())); return;  // BINPERSID
      default:
        fail(cat("opcode 0x", "0123456789abcdef"[op >> 4], "0123456789abcdef"[op & 15],
                 " that torch.save does not write"));
    }
  }

  std::span<const std::byte> bytes_;
  const std::string& what_;
  std::deque<Object>& objects_;
  size_t pos_ = 0;
  size_t opcode_at_ = 0;
  Object* none_ = nullptr;
  std::vector<Object*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Object*> memo_;
};

}  // namespace

Pickle unpickle(std::span<const std::byte> bytes, const std::string& what) {
  Pickle pickle;
  pickle.root_ = Machine(bytes, what, *pickle.objects_).run();
  return pickle;
}

}  // namespace crowdrt::checkpoint::pickle
