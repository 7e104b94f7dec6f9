#include "core/npy.h"

#include <cstring>

#include "core/file.h"

namespace crowdrt {
namespace {
// Finds the value text after "'key':" in the header dict; empty when absent.
std::string dict_value(const std::string& header, const std::string& key) {
  const std::string quoted = "'" + key + "'";
  const size_t k = header.find(quoted);
  if (k == std::string::npos) return {};
  size_t p = header.find(':', k + quoted.size());
  if (p == std::string::npos) return {};
  ++p;
  while (p < header.size() && header[p] == ' ') ++p;
  if (p >= header.size()) return {};
  const char open = header[p];
  const char close = open == '(' ? ')' : open == '\'' ? '\'' : ',';
  const size_t end = header.find(close, p + 1);
  if (end == std::string::npos) return close == ',' ? header.substr(p) : std::string{};
  return header.substr(p, end - p + (close == ',' ? 0 : 1));
}
}  // namespace

Tensor parse_npy(std::span<const std::byte> bytes, const std::string& what) {
  auto fail = [&](const std::string& why) -> Error {
    return Error(
        cat(what, ": not a float32 .npy file (", why, "); save it with numpy.save(path, x.astype(np.float32))"));
  };
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0) throw fail("missing the \\x93NUMPY magic");
  const auto u8 = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
  const int major = u8(6);
  size_t header_len = 0, start = 0;
  if (major == 1) {
    header_len = u8(8) | (u8(9) << 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw fail("truncated header");
    header_len = u8(8) | (u8(9) << 8) | (static_cast<size_t>(u8(10)) << 16) | (static_cast<size_t>(u8(11)) << 24);
    start = 12;
  } else {
    throw fail(cat("unknown format version ", major));
  }
  if (header_len > bytes.size() - start) throw fail("truncated header");
  const std::string header(reinterpret_cast<const char*>(bytes.data()) + start, header_len);
  const std::string descr = dict_value(header, "descr");
  if (descr != "'<f4'" && descr != "'float32'") throw fail(cat("dtype ", descr.empty() ? "missing" : descr));
  const std::string fortran = dict_value(header, "fortran_order");
  if (fortran.rfind("False", 0) != 0) throw fail("Fortran order or missing fortran_order");
  const std::string shape_text = dict_value(header, "shape");
  if (shape_text.size() < 2 || shape_text.front() != '(') throw fail("missing shape");
  Shape shape;
  std::string number;
  for (char c : shape_text.substr(1)) {
    if (c >= '0' && c <= '9') {
      number += c;
      if (number.size() > 12) throw fail("dimension too large");
    } else if (c == ',' || c == ')') {
      if (!number.empty()) shape.push_back(std::stoll(number));
      number.clear();
    } else if (c != ' ' && c != 'L') {
      throw fail(cat("bad character '", c, "' in shape"));
    }
  }
  if (shape.size() > 8) throw fail("more than 8 dimensions");
  int64_t n = 1;
  for (int64_t d : shape) {
    constexpr int64_t kMaxElements = int64_t{1} << 34;
    if (d > kMaxElements || (d != 0 && n > kMaxElements / d)) throw fail("too large");
    n *= d;
  }
  const size_t data_start = start + header_len;
  const size_t need = static_cast<size_t>(n) * 4;
  if (bytes.size() - data_start < need)
    throw fail(cat("truncated data: ", bytes.size() - data_start, " bytes for shape ", shape_str(shape)));
  Tensor t(DType::f32, shape);
  if (need) std::memcpy(t.raw(), bytes.data() + data_start, need);
  return t;
}

Tensor read_npy(const std::string& path) { return parse_npy(read_file(path), path); }

void write_npy(const std::string& path, const Tensor& tensor) {
  if (tensor.dtype() != DType::f32) throw Error(cat(path, ": write_npy takes float32 tensors"));
  std::string shape = "(";
  for (int64_t d : tensor.shape()) shape += std::to_string(d) + ", ";
  if (tensor.shape().size() > 1) shape.resize(shape.size() - 2);
  else if (tensor.shape().size() == 1) shape.resize(shape.size() - 1);
  shape += ")";
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::vector<std::byte> out(10 + header.size() + tensor.bytes());
  std::memcpy(out.data(), "\x93NUMPY\x01\x00", 8);
  out[8] = static_cast<std::byte>(header.size() & 0xff);
  out[9] = static_cast<std::byte>(header.size() >> 8);
  std::memcpy(out.data() + 10, header.data(), header.size());
  if (tensor.bytes()) std::memcpy(out.data() + 10 + header.size(), tensor.raw(), tensor.bytes());
  write_file_atomic(path, out);
}

}  // namespace crowdrt
