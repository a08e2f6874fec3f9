// C header export: the bytes of an exported model as a 16-byte aligned array, the form
// microcontroller firmware (TFLite Micro and friends) compiles in. Works from C11 and C++11:
// in C, <stdalign.h> provides `alignas`.
#include <cctype>
#include <cstdio>

#include "engine/data/file_io.h"
#include "engine/deploy/tflite_file.h"

namespace qat::deploy {

namespace {

bool isCIdentifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

}  // namespace

Status writeCHeader(const std::vector<uint8_t>& bytes, const std::string& path, const std::string& symbol) {
  if (!isCIdentifier(symbol))
    return makeError(path + ": '" + symbol + "' is not a C identifier (letters, digits, '_', not starting with a digit)");
  if (bytes.empty()) return makeError(path + ": no bytes to write (C has no empty arrays)");
  if (bytes.size() > 0xFFFFFFFFu) return makeError(path + ": the model is too large for an unsigned int length");
  std::string guard = symbol;
  for (char& c : guard) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  guard += "_H_";

  std::string text;
  text.reserve(bytes.size() * 6 + 512);
  text += "// " + symbol + ": " + std::to_string(bytes.size()) + " bytes, written by QAT Studio.\n";
  text += "// The model bytes as a 16-byte aligned array (TFLite requires the flatbuffer's buffers to\n";
  text += "// stay aligned), for microcontroller firmware.\n";
  text += "#ifndef " + guard + "\n#define " + guard + "\n\n";
  text += "#ifndef __cplusplus\n#include <stdalign.h>\n#endif\n\n";
  text += "alignas(16) const unsigned char " + symbol + "[] = {";
  char hex[8];
  for (size_t i = 0; i < bytes.size(); ++i) {
    text += i % 12 == 0 ? "\n   " : "";
    std::snprintf(hex, sizeof hex, " 0x%02x,", bytes[i]);
    text += hex;
  }
  text += "\n};\n";
  text += "const unsigned int " + symbol + "_len = " + std::to_string(bytes.size()) + "u;\n\n";
  text += "#endif  // " + guard + "\n";
  return writeFileAtomic(path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

}  // namespace qat::deploy
