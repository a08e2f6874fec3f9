#include "engine/deploy/protobuf_writer.h"

#include <bit>

namespace qat::deploy {

void ProtoWriter::appendVarint(std::vector<uint8_t>& out, uint64_t v) {
  // 7 payload bits per byte, low group first; the high bit says "more bytes follow".
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

size_t ProtoWriter::varintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void ProtoWriter::key(uint32_t field, WireType type) {
  appendVarint(buf_, (static_cast<uint64_t>(field) << 3) | type);
}

void ProtoWriter::addInt(uint32_t field, int64_t v) {
  // Negative values are encoded as their 64-bit two's complement.
  addUInt(field, static_cast<uint64_t>(v));
}

void ProtoWriter::addUInt(uint32_t field, uint64_t v) {
  key(field, Varint);
  appendVarint(buf_, v);
}

static void appendFloatLE(std::vector<uint8_t>& out, float v) {
  const uint32_t bits = std::bit_cast<uint32_t>(v);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(bits >> (8 * i)));
}

void ProtoWriter::addFloat(uint32_t field, float v) {
  key(field, Fixed32);
  appendFloatLE(buf_, v);
}

void ProtoWriter::addString(uint32_t field, std::string_view s) {
  addBytes(field, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

void ProtoWriter::addBytes(uint32_t field, std::span<const uint8_t> bytes) {
  key(field, LengthDelimited);
  appendVarint(buf_, bytes.size());
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

void ProtoWriter::addMessage(uint32_t field, const ProtoWriter& message) {
  addBytes(field, message.bytes());
}

void ProtoWriter::addPackedInts(uint32_t field, std::span<const int64_t> values) {
  size_t len = 0;
  for (int64_t v : values) len += varintSize(static_cast<uint64_t>(v));
  key(field, LengthDelimited);
  appendVarint(buf_, len);
  for (int64_t v : values) appendVarint(buf_, static_cast<uint64_t>(v));
}

void ProtoWriter::addPackedFloats(uint32_t field, std::span<const float> values) {
  key(field, LengthDelimited);
  appendVarint(buf_, values.size() * 4);
  for (float v : values) appendFloatLE(buf_, v);
}

}  // namespace qat::deploy
