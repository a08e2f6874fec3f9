#include "engine/deploy/protobuf_reader.h"

#include <bit>

namespace qat::deploy {

Error ProtoReader::error(size_t pos, const std::string& what) const {
  return makeError("corrupt protobuf data at byte " + std::to_string(base_ + pos) + ": " + what);
}

const char* ProtoReader::wireTypeName(WireType t) {
  switch (t) {
    case Varint: return "varint";
    case Fixed64: return "fixed64";
    case LengthDelimited: return "length-delimited";
    case Fixed32: return "fixed32";
  }
  return "?";
}

// Base-128: byte k carries bits 7k..7k+6; the high bit says another byte follows. The
// tenth byte may only carry the top bit of a 64-bit value.
Expected<uint64_t> ProtoReader::varint(std::span<const uint8_t> b, size_t& pos, size_t origin) const {
  uint64_t v = 0;
  for (int k = 0; k < 10; ++k) {
    if (pos >= b.size()) return error(origin + pos, "the data ends inside a varint (truncated file?)");
    const uint8_t byte = b[pos++];
    if (k == 9 && byte > 1) return error(origin + pos - 1, "varint longer than 64 bits");
    v |= static_cast<uint64_t>(byte & 0x7F) << (7 * k);
    if (!(byte & 0x80)) return v;
  }
  return error(origin + pos, "varint longer than 10 bytes");
}

Expected<bool> ProtoReader::next(Field& f) {
  if (pos_ >= buf_.size()) return false;
  f = Field{};
  f.offset = base_ + pos_;
  const size_t keyPos = pos_;
  auto key = varint(buf_, pos_, 0);
  if (!key.ok()) return key.error();
  const uint64_t number = key.value() >> 3;
  const uint32_t type = static_cast<uint32_t>(key.value() & 7);
  if (number == 0 || number > 0x1FFFFFFF) return error(keyPos, "invalid field number " + std::to_string(number));
  f.number = static_cast<uint32_t>(number);
  const size_t left = buf_.size() - pos_;
  switch (type) {
    case Varint: {
      auto v = varint(buf_, pos_, 0);
      if (!v.ok()) return v.error();
      f.type = Varint;
      f.value = v.value();
      return true;
    }
    case Fixed64:
      if (left < 8) return error(pos_, "the data ends inside a fixed64 field (truncated file?)");
      f.type = Fixed64;
      for (int i = 7; i >= 0; --i) f.value = (f.value << 8) | buf_[pos_ + static_cast<size_t>(i)];
      pos_ += 8;
      return true;
    case Fixed32:
      if (left < 4) return error(pos_, "the data ends inside a fixed32 field (truncated file?)");
      f.type = Fixed32;
      for (int i = 3; i >= 0; --i) f.value = (f.value << 8) | buf_[pos_ + static_cast<size_t>(i)];
      pos_ += 4;
      return true;
    case LengthDelimited: {
      const size_t lenPos = pos_;
      auto len = varint(buf_, pos_, 0);
      if (!len.ok()) return len.error();
      if (len.value() > buf_.size() - pos_)
        return error(lenPos, "field " + std::to_string(number) + " claims " + std::to_string(len.value()) +
                                 " bytes, only " + std::to_string(buf_.size() - pos_) + " are left (truncated file?)");
      f.type = LengthDelimited;
      f.bytes = buf_.subspan(pos_, static_cast<size_t>(len.value()));
      pos_ += static_cast<size_t>(len.value());
      return true;
    }
    default:
      return error(keyPos, "field " + std::to_string(number) + " has wire type " + std::to_string(type) +
                               (type == 3 || type == 4 ? " (a proto2 group)" : " (invalid)"));
  }
}

float ProtoReader::asFloat(const Field& f) { return std::bit_cast<float>(static_cast<uint32_t>(f.value)); }

Status ProtoReader::appendInts(const Field& f, std::vector<int64_t>& out) const {
  if (f.type == Varint) {
    out.push_back(asInt64(f));
    return {};
  }
  if (f.type != LengthDelimited)
    return error(f.offset - base_, "integer field " + std::to_string(f.number) + " has wire type " +
                                       wireTypeName(f.type));
  const size_t start = static_cast<size_t>(f.bytes.data() - buf_.data());
  size_t pos = 0;
  while (pos < f.bytes.size()) {
    auto v = varint(f.bytes, pos, start);
    if (!v.ok()) return v.error();
    out.push_back(static_cast<int64_t>(v.value()));
  }
  return {};
}

Status ProtoReader::appendFloats(const Field& f, std::vector<float>& out) const {
  if (f.type == Fixed32) {
    out.push_back(asFloat(f));
    return {};
  }
  if (f.type != LengthDelimited || f.bytes.size() % 4 != 0)
    return error(f.offset - base_, "float field " + std::to_string(f.number) + " is neither fixed32 nor packed floats");
  for (size_t i = 0; i < f.bytes.size(); i += 4) {
    uint32_t bits = 0;
    for (int k = 3; k >= 0; --k) bits = (bits << 8) | f.bytes[i + static_cast<size_t>(k)];
    out.push_back(std::bit_cast<float>(bits));
  }
  return {};
}

}  // namespace qat::deploy
