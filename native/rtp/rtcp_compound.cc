// Compound RTCP: RFC 3550 sections 6.1 (header), 6.4 (SR, RR), 6.5 (SDES),
// 6.6 (BYE); RFC 4585 section 6.1-6.3 (feedback header, generic NACK, PLI);
// RFC 5104 section 4.3.1 (FIR); draft-alvestrand-rmcat-remb-03 (REMB);
// draft-holmer-rmcat-transport-wide-cc-extensions-01 section 3.1 (TWCC).

#include "rtp/rtcp_compound.h"

#include <algorithm>
#include <cmath>

#include "rtp/byte_io.h"

namespace cloudlink::rtp {

namespace {

constexpr int kRtcpVersion = 2;                        // RFC 3550 section 6.4.1
constexpr size_t kHeaderBytes = 4;                     // V, P, count, type, length
constexpr size_t kWordBytes = 4;                       // lengths count 32-bit words
constexpr size_t kReportBlockBytes = 24;               // RFC 3550 section 6.4.1
constexpr size_t kSenderInfoBytes = 24;                // SSRC + NTP + RTP ts + counts
constexpr size_t kFeedbackBytes = 8;                   // sender SSRC + media SSRC (RFC 4585 6.1)
constexpr size_t kFirEntryBytes = 8;                   // SSRC + seq + 3 reserved (RFC 5104 4.3.1.1)
constexpr int kMaxCount = 31;                          // the 5-bit count field
constexpr uint8_t kPaddingBit = 0x20;                  // RFC 3550 section 6.4.1
constexpr size_t kMaxLengthWords = 0xffff;             // the 16-bit length field
constexpr size_t kMaxBodyBytes = kMaxLengthWords * 4;  // header word excluded
constexpr int kNackFormat = 1;                         // RFC 4585 section 6.2.1
constexpr int kPliFormat = 1;                          // RFC 4585 section 6.3.1
constexpr int kFirFormat = 4;                          // RFC 5104 section 4.3.1
constexpr int kAfbFormat = 15;                         // RFC 4585 section 6.4, REMB rides on it
constexpr int kSdesEnd = 0;                            // RFC 3550 section 6.5: end of an item list
constexpr uint32_t kRembIdentifier = 0x52454D42;       // "REMB"
constexpr int kRembMantissaBits = 18;                  // draft-alvestrand-rmcat-remb-03 2.2
constexpr int kNackMaskBits = 16;                      // BLP covers PID+1..PID+16
constexpr int kTransportFeedbackFormat = 15;           // draft-holmer-...-01 section 3.1
// TWCC fields (draft-holmer-rmcat-transport-wide-cc-extensions-01 3.1):
// base, count, 24-bit reference time in 64 ms, feedback count; then 16-bit
// chunks; deltas count 250 µs, in one byte (0..255) or two signed bytes.
constexpr size_t kTwccFixedBytes = 8;
constexpr int64_t kTwccReferenceUs = 64000;
constexpr int64_t kTwccDeltaUs = 250;
constexpr int32_t kMaxReferenceTime = (1 << 23) - 1;  // 24-bit signed
constexpr int kTwccNotReceived = 0;                   // status symbols
constexpr int kTwccSmallDelta = 1;
constexpr int kTwccLargeDelta = 2;
constexpr int kTwccMaxRunLength = (1 << 13) - 1;  // 13-bit run length
constexpr int kTwccOneBitSymbols = 14;            // per status vector chunk
constexpr int kTwccTwoBitSymbols = 7;
constexpr int32_t kMaxCumulativeLost = (1 << 23) - 1;  // 24-bit signed

using Bytes = std::vector<uint8_t>;

// A parse step's failure: sets the reason, returns false.
bool Fail(std::string* error, std::string reason) {
  *error = std::move(reason);
  return false;
}

std::string Name(int type) {
  switch (type) {
    case RtcpCompound::kSenderReportType:
      return "SR";
    case RtcpCompound::kReceiverReportType:
      return "RR";
    case RtcpCompound::kSdesType:
      return "SDES";
    case RtcpCompound::kByeType:
      return "BYE";
    default:
      return "RTCP type " + std::to_string(type);
  }
}

// ---- Parsing: each reads one packet's body (after header, without padding).

bool ParseReportBlocks(const uint8_t* p, size_t size, int count, std::vector<ReportBlock>* out,
                       std::string* error, const char* what) {
  if (static_cast<size_t>(count) * kReportBlockBytes > size)
    return Fail(error, std::string(what) + " announces " + std::to_string(count) +
                           " report blocks, its body holds " + std::to_string(size) + " bytes");
  for (int i = 0; i < count; ++i, p += kReportBlockBytes) {
    ReportBlock block;
    block.ssrc = ReadU32(p);
    block.fraction_lost = p[4];
    // Sign-extend the 24-bit cumulative count.
    const uint32_t lost = ReadU24(p + 5);
    block.cumulative_lost = (lost & 0x800000) ? static_cast<int>(lost) - (1 << 24) : lost;
    block.extended_highest_sequence = ReadU32(p + 8);
    block.jitter = ReadU32(p + 12);
    block.last_sr = ReadU32(p + 16);
    block.delay_since_last_sr = ReadU32(p + 20);
    out->push_back(block);
  }
  return true;
}

bool ParseSenderReport(const uint8_t* p, size_t size, int count, SenderReport* sr,
                       std::string* error) {
  if (size < kSenderInfoBytes)
    return Fail(error, "SR body of " + std::to_string(size) + " bytes, the sender info needs 24");
  sr->ssrc = ReadU32(p);
  sr->ntp_timestamp = (static_cast<uint64_t>(ReadU32(p + 4)) << 32) | ReadU32(p + 8);
  sr->rtp_timestamp = ReadU32(p + 12);
  sr->packet_count = ReadU32(p + 16);
  sr->octet_count = ReadU32(p + 20);
  // Profile-specific extensions after the blocks are ignored (RFC 3550 6.4.1).
  return ParseReportBlocks(p + kSenderInfoBytes, size - kSenderInfoBytes, count, &sr->report_blocks,
                           error, "SR");
}

bool ParseReceiverReport(const uint8_t* p, size_t size, int count, ReceiverReport* rr,
                         std::string* error) {
  if (size < 4) return Fail(error, "RR body of " + std::to_string(size) + " bytes has no SSRC");
  rr->ssrc = ReadU32(p);
  return ParseReportBlocks(p + 4, size - 4, count, &rr->report_blocks, error, "RR");
}

bool ParseSdes(const uint8_t* p, size_t size, int count, Sdes* sdes, std::string* error) {
  size_t pos = 0;
  for (int chunk_index = 0; chunk_index < count; ++chunk_index) {
    // Step 1: the chunk's SSRC, then items until the END item.
    if (size - pos < 4)
      return Fail(error, "SDES announces " + std::to_string(count) + " chunks, chunk " +
                             std::to_string(chunk_index) + " is missing");
    SdesChunk chunk;
    chunk.ssrc = ReadU32(p + pos);
    pos += 4;
    while (true) {
      if (pos >= size) return Fail(error, "SDES chunk ends without its END item");
      const int type = p[pos];
      if (type == kSdesEnd) break;
      if (pos + 2 > size) return Fail(error, "SDES item header is truncated");
      const size_t length = p[pos + 1];
      if (length > size - pos - 2)
        return Fail(error, "SDES item of " + std::to_string(length) + " bytes runs past the end");
      chunk.items.push_back(
          {type, std::string(reinterpret_cast<const char*>(p + pos + 2), length)});
      pos += 2 + length;
    }

    // Step 2: the END byte and the null padding up to the next word.
    pos = (pos / kWordBytes + 1) * kWordBytes;
    if (pos > size) return Fail(error, "SDES chunk padding runs past the end");
    sdes->chunks.push_back(std::move(chunk));
  }
  return true;
}

bool ParseBye(const uint8_t* p, size_t size, int count, Bye* bye, std::string* error) {
  if (static_cast<size_t>(count) * 4 > size)
    return Fail(error, "BYE announces " + std::to_string(count) + " SSRCs, its body holds " +
                           std::to_string(size) + " bytes");
  for (int i = 0; i < count; ++i) bye->ssrcs.push_back(ReadU32(p + 4 * i));
  const size_t pos = static_cast<size_t>(count) * 4;
  if (pos < size) {
    const size_t length = p[pos];
    if (length > size - pos - 1)
      return Fail(error, "BYE reason of " + std::to_string(length) + " bytes runs past the end");
    bye->reason.assign(reinterpret_cast<const char*>(p + pos + 1), length);
  }
  return true;
}

bool ParseNack(const uint8_t* p, size_t size, Nack* nack, std::string* error) {
  const size_t fci_bytes = size - kFeedbackBytes;
  if (fci_bytes == 0 || fci_bytes % 4 != 0)
    return Fail(error, "NACK needs whole 4-byte PID+BLP entries, got " + std::to_string(fci_bytes) +
                           " bytes");
  nack->sender_ssrc = ReadU32(p);
  nack->media_ssrc = ReadU32(p + 4);
  for (size_t pos = kFeedbackBytes; pos < size; pos += 4) {
    // The PID is lost, and PID + i + 1 is lost for each set bit i of BLP.
    const uint16_t pid = ReadU16(p + pos);
    const uint16_t mask = ReadU16(p + pos + 2);
    nack->sequence_numbers.push_back(pid);
    for (int bit = 0; bit < kNackMaskBits; ++bit)
      if (mask & (1 << bit)) nack->sequence_numbers.push_back((pid + bit + 1) & 0xffff);
  }
  return true;
}

bool ParseFir(const uint8_t* p, size_t size, Fir* fir, std::string* error) {
  const size_t fci_bytes = size - kFeedbackBytes;
  if (fci_bytes == 0 || fci_bytes % kFirEntryBytes != 0)
    return Fail(error,
                "FIR needs whole 8-byte entries, got " + std::to_string(fci_bytes) + " bytes");
  fir->sender_ssrc = ReadU32(p);
  fir->media_ssrc = ReadU32(p + 4);
  for (size_t pos = kFeedbackBytes; pos < size; pos += kFirEntryBytes)
    fir->entries.push_back({ReadU32(p + pos), p[pos + 4]});
  return true;
}

bool IsRemb(const uint8_t* p, size_t size) {
  return size >= kFeedbackBytes + 4 && ReadU32(p + kFeedbackBytes) == kRembIdentifier;
}

bool ParseRemb(const uint8_t* p, size_t size, Remb* remb, std::string* error) {
  // Identifier, SSRC count, exponent and mantissa, then the SSRCs.
  if (size < kFeedbackBytes + 8)
    return Fail(error, "REMB body of " + std::to_string(size) + " bytes, it needs 16");
  remb->sender_ssrc = ReadU32(p);
  const uint8_t* fci = p + kFeedbackBytes;
  const size_t ssrc_count = fci[4];
  const int exponent = fci[5] >> 2;
  const uint64_t mantissa = ReadU24(fci + 5) & ((1u << kRembMantissaBits) - 1);
  // A 6-bit exponent can shift the mantissa beyond 64 bits: saturate.
  remb->bitrate_bps = (exponent + kRembMantissaBits > 64 && (mantissa >> (64 - exponent)) != 0)
                          ? UINT64_MAX
                          : mantissa << exponent;
  if (ssrc_count * 4 > size - kFeedbackBytes - 8)
    return Fail(error, "REMB announces " + std::to_string(ssrc_count) + " SSRCs, " +
                           std::to_string(size - kFeedbackBytes - 8) + " bytes hold them");
  for (size_t i = 0; i < ssrc_count; ++i) remb->ssrcs.push_back(ReadU32(fci + 8 + 4 * i));
  return true;
}

// Reads the status symbols of `count` packets from the packet chunks.
bool ParseTwccChunks(const uint8_t* p, size_t size, size_t count, size_t* pos,
                     std::vector<int>* symbols, std::string* error) {
  while (symbols->size() < count) {
    if (size - *pos < 2) return Fail(error, "transport feedback packet chunks are truncated");
    const uint16_t chunk = ReadU16(p + *pos);
    *pos += 2;
    if ((chunk & 0x8000) == 0) {
      // Run length chunk: symbol in bits 14-13, length in the low 13 bits.
      const int symbol = (chunk >> 13) & 0x03;
      const size_t run = std::min<size_t>(chunk & kTwccMaxRunLength, count - symbols->size());
      symbols->insert(symbols->end(), run, symbol);
    } else if ((chunk & 0x4000) == 0) {
      // Status vector of 14 one-bit symbols, the first in bit 13.
      for (int i = kTwccOneBitSymbols - 1; i >= 0 && symbols->size() < count; --i)
        symbols->push_back((chunk >> i) & 0x01);
    } else {
      // Status vector of 7 two-bit symbols, the first in bits 13-12.
      for (int i = kTwccTwoBitSymbols - 1; i >= 0 && symbols->size() < count; --i)
        symbols->push_back((chunk >> (2 * i)) & 0x03);
    }
  }
  for (int symbol : *symbols)
    if (symbol > kTwccLargeDelta)
      return Fail(error, "transport feedback uses the reserved status symbol 3");
  return true;
}

bool ParseTransportFeedback(const uint8_t* p, size_t size, TransportFeedback* feedback,
                            std::string* error) {
  // Step 1: the fixed fields after the SSRCs.
  if (size < kFeedbackBytes + kTwccFixedBytes)
    return Fail(error,
                "transport feedback body of " + std::to_string(size) + " bytes, it needs 16");
  feedback->sender_ssrc = ReadU32(p);
  feedback->media_ssrc = ReadU32(p + 4);
  const uint8_t* fci = p + kFeedbackBytes;
  const size_t fci_bytes = size - kFeedbackBytes;
  feedback->base_sequence = ReadU16(fci);
  const size_t count = ReadU16(fci + 2);
  const uint32_t reference = ReadU24(fci + 4);
  const int64_t reference_time =
      (reference & 0x800000) ? static_cast<int64_t>(reference) - (1 << 24) : reference;
  feedback->feedback_count = fci[7];

  // Step 2: the status of each packet, then a delta per received packet.
  size_t pos = kTwccFixedBytes;
  std::vector<int> symbols;
  if (!ParseTwccChunks(fci, fci_bytes, count, &pos, &symbols, error)) return false;
  int64_t arrival_us = reference_time * kTwccReferenceUs;
  feedback->arrival_times_us.reserve(count);
  for (int symbol : symbols) {
    if (symbol == kTwccNotReceived) {
      feedback->arrival_times_us.emplace_back();
      continue;
    }
    const size_t delta_bytes = symbol == kTwccSmallDelta ? 1 : 2;
    if (fci_bytes - pos < delta_bytes)
      return Fail(error, "transport feedback receive deltas are truncated");
    const int64_t delta =
        symbol == kTwccSmallDelta ? fci[pos] : static_cast<int16_t>(ReadU16(fci + pos));
    pos += delta_bytes;
    arrival_us += delta * kTwccDeltaUs;
    feedback->arrival_times_us.push_back(arrival_us);
  }
  // Bytes after the deltas are padding (zeros, by the draft).
  return true;
}

// Parses one packet's body by its type; unknown types are kept whole.
bool ParseOne(int type, int count, const uint8_t* body, size_t size, RtcpPacket* out,
              std::string* error) {
  const bool feedback =
      type == RtcpCompound::kTransportFeedbackType || type == RtcpCompound::kPayloadFeedbackType;
  if (feedback && size < kFeedbackBytes)
    return Fail(error, "feedback packet (type " + std::to_string(type) + ") body of " +
                           std::to_string(size) + " bytes, the SSRCs need 8");
  switch (type) {
    case RtcpCompound::kSenderReportType:
      return ParseSenderReport(body, size, count, &out->emplace<SenderReport>(), error);
    case RtcpCompound::kReceiverReportType:
      return ParseReceiverReport(body, size, count, &out->emplace<ReceiverReport>(), error);
    case RtcpCompound::kSdesType:
      return ParseSdes(body, size, count, &out->emplace<Sdes>(), error);
    case RtcpCompound::kByeType:
      return ParseBye(body, size, count, &out->emplace<Bye>(), error);
    case RtcpCompound::kTransportFeedbackType:
      if (count == kNackFormat) return ParseNack(body, size, &out->emplace<Nack>(), error);
      if (count == kTransportFeedbackFormat)
        return ParseTransportFeedback(body, size, &out->emplace<TransportFeedback>(), error);
      break;
    case RtcpCompound::kPayloadFeedbackType:
      if (count == kPliFormat) {
        // Any FCI after the SSRCs is ignored: RFC 4585 6.3.1 defines none.
        out->emplace<Pli>(Pli{ReadU32(body), ReadU32(body + 4)});
        return true;
      }
      if (count == kFirFormat) return ParseFir(body, size, &out->emplace<Fir>(), error);
      if (count == kAfbFormat && IsRemb(body, size))
        return ParseRemb(body, size, &out->emplace<Remb>(), error);
      break;
  }
  out->emplace<RtcpUnknown>(
      RtcpUnknown{type, count, std::string(reinterpret_cast<const char*>(body), size)});
  return true;
}

// ---- Writing: each appends one packet, header included.

// Appends a header with a zero length; FinishPacket fills the length.
size_t StartPacket(Bytes* out, int count, int type) {
  const size_t start = out->size();
  out->push_back(static_cast<uint8_t>((kRtcpVersion << 6) | count));
  out->push_back(static_cast<uint8_t>(type));
  AppendU16(out, 0);
  return start;
}

// Fills the length field; a packet too long for it is taken back out.
std::string FinishPacket(Bytes* out, size_t start) {
  while ((out->size() - start) % kWordBytes != 0) out->push_back(0);
  const size_t length_words = (out->size() - start) / kWordBytes - 1;
  if (length_words > kMaxLengthWords) {
    out->resize(start);
    return "an RTCP packet holds at most 65535 words after its header, got " +
           std::to_string(length_words);
  }
  WriteU16At(out, start + 2, length_words);
  return "";
}

// Pads a packet started at `start` to whole words with RFC 3550 padding
// (P bit, zeros, a count), which the parser strips again.
void AppendPadding(Bytes* out, size_t start) {
  const size_t padding = (kWordBytes - (out->size() - start) % kWordBytes) % kWordBytes;
  if (padding == 0) return;
  (*out)[start] |= kPaddingBit;
  out->insert(out->end(), padding - 1, 0);
  out->push_back(static_cast<uint8_t>(padding));
}

std::string CheckCount(size_t count, const char* what) {
  if (count > static_cast<size_t>(kMaxCount))
    return std::string("an RTCP packet carries at most 31 ") + what + ", got " +
           std::to_string(count);
  return "";
}

std::string WriteReportBlocks(const std::vector<ReportBlock>& blocks, Bytes* out) {
  for (const ReportBlock& block : blocks) {
    if (block.fraction_lost < 0 || block.fraction_lost > 255)
      return "fraction_lost must be within 0..255, got " + std::to_string(block.fraction_lost);
    if (block.cumulative_lost < -kMaxCumulativeLost - 1 ||
        block.cumulative_lost > kMaxCumulativeLost)
      return "cumulative_lost must fit 24 signed bits, got " +
             std::to_string(block.cumulative_lost);
    AppendU32(out, block.ssrc);
    out->push_back(static_cast<uint8_t>(block.fraction_lost));
    AppendU24(out, static_cast<uint32_t>(block.cumulative_lost) & 0xffffff);
    AppendU32(out, block.extended_highest_sequence);
    AppendU32(out, block.jitter);
    AppendU32(out, block.last_sr);
    AppendU32(out, block.delay_since_last_sr);
  }
  return "";
}

std::string Write(const SenderReport& sr, Bytes* out) {
  if (auto reason = CheckCount(sr.report_blocks.size(), "report blocks"); !reason.empty())
    return reason;
  const size_t start = StartPacket(out, sr.report_blocks.size(), RtcpCompound::kSenderReportType);
  AppendU32(out, sr.ssrc);
  AppendU32(out, sr.ntp_timestamp >> 32);
  AppendU32(out, static_cast<uint32_t>(sr.ntp_timestamp));
  AppendU32(out, sr.rtp_timestamp);
  AppendU32(out, sr.packet_count);
  AppendU32(out, sr.octet_count);
  if (auto reason = WriteReportBlocks(sr.report_blocks, out); !reason.empty()) return reason;
  return FinishPacket(out, start);
}

std::string Write(const ReceiverReport& rr, Bytes* out) {
  if (auto reason = CheckCount(rr.report_blocks.size(), "report blocks"); !reason.empty())
    return reason;
  const size_t start = StartPacket(out, rr.report_blocks.size(), RtcpCompound::kReceiverReportType);
  AppendU32(out, rr.ssrc);
  if (auto reason = WriteReportBlocks(rr.report_blocks, out); !reason.empty()) return reason;
  return FinishPacket(out, start);
}

std::string Write(const Sdes& sdes, Bytes* out) {
  if (auto reason = CheckCount(sdes.chunks.size(), "SDES chunks"); !reason.empty()) return reason;
  const size_t start = StartPacket(out, sdes.chunks.size(), RtcpCompound::kSdesType);
  for (const SdesChunk& chunk : sdes.chunks) {
    AppendU32(out, chunk.ssrc);
    for (const SdesItem& item : chunk.items) {
      if (item.type < 1 || item.type > 255)
        return "SDES item type must be within 1..255, got " + std::to_string(item.type);
      if (item.value.size() > 255)
        return "an SDES item holds at most 255 bytes, got " + std::to_string(item.value.size());
      out->push_back(static_cast<uint8_t>(item.type));
      out->push_back(static_cast<uint8_t>(item.value.size()));
      out->insert(out->end(), item.value.begin(), item.value.end());
    }
    // END, then nulls to the next word (RFC 3550 section 6.5).
    out->push_back(kSdesEnd);
    while ((out->size() - start) % kWordBytes != 0) out->push_back(0);
  }
  return FinishPacket(out, start);
}

std::string Write(const Bye& bye, Bytes* out) {
  if (auto reason = CheckCount(bye.ssrcs.size(), "BYE SSRCs"); !reason.empty()) return reason;
  if (bye.reason.size() > 255)
    return "a BYE reason holds at most 255 bytes, got " + std::to_string(bye.reason.size());
  const size_t start = StartPacket(out, bye.ssrcs.size(), RtcpCompound::kByeType);
  for (uint32_t ssrc : bye.ssrcs) AppendU32(out, ssrc);
  if (!bye.reason.empty()) {
    out->push_back(static_cast<uint8_t>(bye.reason.size()));
    out->insert(out->end(), bye.reason.begin(), bye.reason.end());
  }
  return FinishPacket(out, start);
}

std::string Write(const Nack& nack, Bytes* out) {
  if (nack.sequence_numbers.empty()) return "a NACK needs at least one sequence number";
  for (int seq : nack.sequence_numbers)
    if (seq < 0 || seq > 0xffff)
      return "NACK sequence numbers must be within 0..65535, got " + std::to_string(seq);
  const size_t start = StartPacket(out, kNackFormat, RtcpCompound::kTransportFeedbackType);
  AppendU32(out, nack.sender_ssrc);
  AppendU32(out, nack.media_ssrc);

  // Each number joins the open entry when it lies 1..16 after its PID
  // (modulo 2^16), else opens a new entry.
  int pid = -1;
  uint32_t mask = 0;
  for (int seq : nack.sequence_numbers) {
    const int distance = (seq - pid) & 0xffff;
    if (pid >= 0 && distance == 0) continue;
    if (pid >= 0 && distance <= kNackMaskBits) {
      mask |= 1u << (distance - 1);
      continue;
    }
    if (pid >= 0) AppendU32(out, (static_cast<uint32_t>(pid) << 16) | mask);
    pid = seq;
    mask = 0;
  }
  AppendU32(out, (static_cast<uint32_t>(pid) << 16) | mask);
  return FinishPacket(out, start);
}

std::string Write(const Pli& pli, Bytes* out) {
  const size_t start = StartPacket(out, kPliFormat, RtcpCompound::kPayloadFeedbackType);
  AppendU32(out, pli.sender_ssrc);
  AppendU32(out, pli.media_ssrc);
  return FinishPacket(out, start);
}

std::string Write(const Fir& fir, Bytes* out) {
  if (fir.entries.empty()) return "a FIR needs at least one entry";
  const size_t start = StartPacket(out, kFirFormat, RtcpCompound::kPayloadFeedbackType);
  AppendU32(out, fir.sender_ssrc);
  AppendU32(out, fir.media_ssrc);
  for (const FirEntry& entry : fir.entries) {
    if (entry.sequence_number < 0 || entry.sequence_number > 255)
      return "FIR sequence_number must be within 0..255, got " +
             std::to_string(entry.sequence_number);
    AppendU32(out, entry.ssrc);
    out->push_back(static_cast<uint8_t>(entry.sequence_number));
    AppendU24(out, 0);
  }
  return FinishPacket(out, start);
}

std::string Write(const Remb& remb, Bytes* out) {
  if (remb.ssrcs.size() > 255)
    return "a REMB carries at most 255 SSRCs, got " + std::to_string(remb.ssrcs.size());
  const size_t start = StartPacket(out, kAfbFormat, RtcpCompound::kPayloadFeedbackType);
  AppendU32(out, remb.sender_ssrc);
  AppendU32(out, 0);  // media SSRC: unused, 0 by the draft
  AppendU32(out, kRembIdentifier);

  // The smallest exponent whose mantissa fits 18 bits (rounds down).
  int exponent = 0;
  while ((remb.bitrate_bps >> exponent) >= (uint64_t{1} << kRembMantissaBits)) ++exponent;
  const uint32_t mantissa = static_cast<uint32_t>(remb.bitrate_bps >> exponent);
  out->push_back(static_cast<uint8_t>(remb.ssrcs.size()));
  AppendU24(out, (static_cast<uint32_t>(exponent) << kRembMantissaBits) | mantissa);
  for (uint32_t ssrc : remb.ssrcs) AppendU32(out, ssrc);
  return FinishPacket(out, start);
}

// The status chunks for `symbols`: a run length chunk for a run of 7 or
// more equal symbols, else a status vector (one-bit when the next 14
// symbols need no large delta, two-bit otherwise).
void AppendTwccChunks(const std::vector<int>& symbols, Bytes* out) {
  size_t i = 0;
  while (i < symbols.size()) {
    size_t run = 1;
    while (i + run < symbols.size() && symbols[i + run] == symbols[i] &&
           run < static_cast<size_t>(kTwccMaxRunLength))
      ++run;
    if (run >= static_cast<size_t>(kTwccTwoBitSymbols)) {
      AppendU16(out, (static_cast<uint32_t>(symbols[i]) << 13) | run);
      i += run;
      continue;
    }
    const size_t end_one_bit = std::min(symbols.size(), i + kTwccOneBitSymbols);
    bool one_bit = true;
    for (size_t k = i; k < end_one_bit; ++k) one_bit &= symbols[k] != kTwccLargeDelta;
    uint32_t chunk = one_bit ? 0x8000 : 0xC000;
    const int slots = one_bit ? kTwccOneBitSymbols : kTwccTwoBitSymbols;
    const int bits = one_bit ? 1 : 2;
    for (int slot = 0; slot < slots && i < symbols.size(); ++slot, ++i)
      chunk |= static_cast<uint32_t>(symbols[i]) << (bits * (slots - 1 - slot));
    AppendU16(out, chunk);
  }
}

std::string Write(const TransportFeedback& feedback, Bytes* out) {
  // Step 1: fields, and the reference time from the first arrival.
  if (feedback.base_sequence < 0 || feedback.base_sequence > 0xffff)
    return "base_sequence must be within 0..65535, got " + std::to_string(feedback.base_sequence);
  if (feedback.feedback_count < 0 || feedback.feedback_count > 255)
    return "feedback_count must be within 0..255, got " + std::to_string(feedback.feedback_count);
  if (feedback.arrival_times_us.size() > 0xffff)
    return "transport feedback covers at most 65535 packets, got " +
           std::to_string(feedback.arrival_times_us.size());
  int64_t reference_time = 0;
  for (const auto& arrival_us : feedback.arrival_times_us) {
    if (!arrival_us) continue;
    // Floor division, so that the first delta is 0..255 ticks.
    reference_time = *arrival_us / kTwccReferenceUs;
    if (*arrival_us % kTwccReferenceUs < 0) --reference_time;
    break;
  }
  // Beyond the 24-bit field, the nearest reference leaves a larger first
  // delta, which step 2 checks like any other.
  reference_time = std::clamp<int64_t>(reference_time, -kMaxReferenceTime - 1, kMaxReferenceTime);

  // Step 2: a symbol, and a delta in 250 µs ticks per received packet.
  std::vector<int> symbols;
  std::vector<int> deltas;
  int64_t previous_us = reference_time * kTwccReferenceUs;
  for (const auto& arrival_us : feedback.arrival_times_us) {
    if (!arrival_us) {
      symbols.push_back(kTwccNotReceived);
      continue;
    }
    const double ticks = std::round(static_cast<double>(*arrival_us - previous_us) / kTwccDeltaUs);
    if (ticks < INT16_MIN || ticks > INT16_MAX)
      return "consecutive arrival times must lie within -8192..8191 ms of each other";
    const int delta = static_cast<int>(ticks);
    symbols.push_back(delta >= 0 && delta <= 255 ? kTwccSmallDelta : kTwccLargeDelta);
    deltas.push_back(delta);
    previous_us += delta * kTwccDeltaUs;
  }

  // Step 3: header, fixed fields, chunks, deltas, padding.
  const size_t start =
      StartPacket(out, kTransportFeedbackFormat, RtcpCompound::kTransportFeedbackType);
  AppendU32(out, feedback.sender_ssrc);
  AppendU32(out, feedback.media_ssrc);
  AppendU16(out, feedback.base_sequence);
  AppendU16(out, feedback.arrival_times_us.size());
  AppendU24(out, static_cast<uint32_t>(reference_time) & 0xffffff);
  out->push_back(static_cast<uint8_t>(feedback.feedback_count));
  AppendTwccChunks(symbols, out);
  for (int delta : deltas) {
    if (delta >= 0 && delta <= 255)
      out->push_back(static_cast<uint8_t>(delta));
    else
      AppendU16(out, static_cast<uint16_t>(delta));
  }
  AppendPadding(out, start);
  return FinishPacket(out, start);
}

std::string Write(const RtcpUnknown& unknown, Bytes* out) {
  if (unknown.packet_type < 0 || unknown.packet_type > 255)
    return "packet_type must be within 0..255, got " + std::to_string(unknown.packet_type);
  if (unknown.count < 0 || unknown.count > kMaxCount)
    return "count must be within 0..31, got " + std::to_string(unknown.count);
  if (unknown.body.size() > kMaxBodyBytes)
    return "an RTCP body holds at most 262140 bytes, got " + std::to_string(unknown.body.size());
  const size_t start = StartPacket(out, unknown.count, unknown.packet_type);
  out->insert(out->end(), unknown.body.begin(), unknown.body.end());

  AppendPadding(out, start);
  return FinishPacket(out, start);
}

}  // namespace

std::optional<std::vector<RtcpPacket>> RtcpCompound::Parse(const uint8_t* data, size_t size,
                                                           std::string* error) {
  std::vector<RtcpPacket> packets;
  if (size == 0) {
    Fail(error, "empty RTCP packet");
    return std::nullopt;
  }
  size_t pos = 0;
  while (pos < size) {
    // Step 1: the common header and the packet's extent.
    if (size - pos < kHeaderBytes) {
      Fail(error, "truncated RTCP header: " + std::to_string(size - pos) + " bytes at offset " +
                      std::to_string(pos));
      return std::nullopt;
    }
    const uint8_t* header = data + pos;
    const int version = header[0] >> 6;
    if (version != kRtcpVersion) {
      Fail(error, "RTCP version must be 2, got " + std::to_string(version) + " at offset " +
                      std::to_string(pos));
      return std::nullopt;
    }
    const bool has_padding = (header[0] & kPaddingBit) != 0;
    const int count = header[0] & 0x1f;
    const int type = header[1];
    const size_t packet_bytes = (ReadU16(header + 2) + size_t{1}) * kWordBytes;
    if (packet_bytes > size - pos) {
      Fail(error, Name(type) + " at offset " + std::to_string(pos) + " claims " +
                      std::to_string(packet_bytes) + " bytes, " + std::to_string(size - pos) +
                      " remain");
      return std::nullopt;
    }

    // Step 2: padding; its last byte counts the padding bytes.
    size_t body_bytes = packet_bytes - kHeaderBytes;
    if (has_padding) {
      const size_t padding = data[pos + packet_bytes - 1];
      if (padding == 0 || padding > body_bytes) {
        Fail(error, "RTCP padding count " + std::to_string(padding) + " does not fit the " +
                        std::to_string(body_bytes) + "-byte body of " + Name(type));
        return std::nullopt;
      }
      body_bytes -= padding;
    }

    // Step 3: the body, by type.
    RtcpPacket packet;
    if (!ParseOne(type, count, header + kHeaderBytes, body_bytes, &packet, error))
      return std::nullopt;
    packets.push_back(std::move(packet));
    pos += packet_bytes;
  }
  return packets;
}

std::string RtcpCompound::Serialize(const std::vector<RtcpPacket>& packets, Bytes* out) {
  for (const RtcpPacket& packet : packets) {
    std::string reason = std::visit([out](const auto& p) { return Write(p, out); }, packet);
    if (!reason.empty()) return reason;
  }
  return "";
}

}  // namespace cloudlink::rtp
