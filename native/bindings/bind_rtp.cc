// Python face of the RTP subsystem: RtpPacket (RFC 3550, RFC 8285), the
// RTCP packets with parse_rtcp / serialize_rtcp (RFC 3550, RFC 4585,
// RFC 5104, REMB), SequenceUnwrapper, ReceiveStatistics and NackTracker.
// A call costs about a microsecond, most of it the Python call itself;
// releasing the GIL would add to that and free the interpreter for too short
// a time to matter, so every call here keeps it.

#include <pybind11/stl.h>

#include <cmath>
#include <string>
#include <utility>

#include "bindings/convert.h"
#include "rtp/nack_tracker.h"
#include "rtp/receive_statistics.h"
#include "rtp/rtcp_compound.h"
#include "rtp/rtp_packet.h"
#include "rtp/sequence_unwrapper.h"

namespace cloudlink::bindings {
namespace {

using rtp::Bye;
using rtp::Fir;
using rtp::FirEntry;
using rtp::Nack;
using rtp::NackTracker;
using rtp::NackTrackerConfig;
using rtp::Pli;
using rtp::ReceiverReport;
using rtp::ReceiveStatistics;
using rtp::Remb;
using rtp::ReportBlock;
using rtp::RtcpCompound;
using rtp::RtcpPacket;
using rtp::RtcpUnknown;
using rtp::RtpPacket;
using rtp::Sdes;
using rtp::SdesChunk;
using rtp::SenderReport;
using rtp::SequenceUnwrapper;
using rtp::TransportFeedback;

constexpr int64_t kMaxU16 = 0xffff;
constexpr int64_t kMaxU32 = 0xffffffffLL;
constexpr int kSdesCname = 1;  // RFC 3550 section 6.5.1

// Header fields are checked like configuration: a value outside its bits
// is the caller's bug and raises ValueError naming it.
int64_t CheckRange(int64_t value, int64_t most, const char* what) {
  if (value < 0 || value > most)
    throw py::value_error(std::string(what) + " must be within 0.." + std::to_string(most) +
                          ", got " + std::to_string(value));
  return value;
}

py::bytes ToBytes(const uint8_t* data, size_t size) {
  return py::bytes(reinterpret_cast<const char*>(data), size);
}
py::bytes ToBytes(const std::vector<uint8_t>& data) { return ToBytes(data.data(), data.size()); }
py::bytes ToBytes(const std::string& data) { return py::bytes(data); }

std::vector<uint8_t> ToVector(const py::buffer& buffer, const char* what) {
  ByteView view(buffer, what);
  return std::vector<uint8_t>(view.data(), view.data() + view.size());
}

std::string ToString(const py::buffer& buffer, const char* what) {
  ByteView view(buffer, what);
  return std::string(reinterpret_cast<const char*>(view.data()), view.size());
}

// Text fields (CNAME, BYE reason) are UTF-8 by RFC 3550; foreign bytes
// become U+FFFD rather than an exception.
py::str DecodeText(const std::string& text) {
  PyObject* decoded = PyUnicode_DecodeUTF8(text.data(), text.size(), "replace");
  if (!decoded) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(decoded);
}

std::vector<uint32_t> ToSsrcs(const std::vector<int64_t>& values, const char* what) {
  std::vector<uint32_t> out;
  out.reserve(values.size());
  for (int64_t value : values)
    out.push_back(static_cast<uint32_t>(CheckRange(value, kMaxU32, what)));
  return out;
}

// ---- RTP

RtpPacket ParseRtp(const py::buffer& data_obj) {
  ByteView data(data_obj, "data");
  std::string error;
  std::optional<RtpPacket> packet = RtpPacket::Parse(data.data(), data.size(), &error);
  if (!packet) RaiseError("RtpError", error);
  return std::move(*packet);
}

py::bytes SerializeRtp(const RtpPacket& packet) {
  std::vector<uint8_t> out;
  out.reserve(RtpPacket::kFixedHeaderBytes + packet.payload.size() + 64);
  CheckConfig(packet.Serialize(&out));
  return ToBytes(out);
}

py::dict GetExtensions(const RtpPacket& packet) {
  py::dict out;
  for (const rtp::HeaderExtension& extension : packet.extensions) {
    py::int_ id(extension.id);
    if (!out.contains(id)) out[id] = ToBytes(extension.data);
  }
  return out;
}

void SetExtensions(RtpPacket& packet, const py::dict& extensions) {
  std::vector<rtp::HeaderExtension> list;
  for (const auto& [id, data] : extensions) {
    const auto checked = CheckRange(id.cast<int64_t>(), RtpPacket::kMaxTwoByteId, "extension id");
    if (checked == 0) throw py::value_error("extension id must be within 1..255, got 0");
    list.push_back({static_cast<int>(checked), ToVector(data.cast<py::buffer>(), "extension")});
  }
  packet.extensions = std::move(list);
}

void SetExtension(RtpPacket& packet, int64_t id, const py::buffer& data) {
  if (id < 1 || id > RtpPacket::kMaxTwoByteId)
    throw py::value_error("extension id must be within 1..255, got " + std::to_string(id));
  std::vector<uint8_t> bytes = ToVector(data, "data");
  if (bytes.size() > RtpPacket::kMaxTwoByteDataBytes)
    throw py::value_error("an extension carries at most 255 bytes, got " +
                          std::to_string(bytes.size()));
  packet.SetExtension(static_cast<int>(id), std::move(bytes));
}

py::object GetExtension(const RtpPacket& packet, int64_t id) {
  const std::vector<uint8_t>* data = packet.FindExtension(static_cast<int>(id));
  if (!data) return py::none();
  return ToBytes(*data);
}

std::string ReprRtp(const RtpPacket& p) {
  return "RtpPacket(payload_type=" + std::to_string(p.payload_type) +
         ", sequence_number=" + std::to_string(p.sequence_number) +
         ", timestamp=" + std::to_string(p.timestamp) + ", ssrc=" + std::to_string(p.ssrc) +
         ", marker=" + (p.marker ? "True" : "False") + ", payload=<" +
         std::to_string(p.payload.size()) +
         " bytes>, extensions=" + std::to_string(p.extensions.size()) + ")";
}

void BindRtpPacket(py::module_& m) {
  py::class_<RtpPacket>(m, "RtpPacket",
                        "One RTP packet (RFC 3550 section 5.1) with RFC 8285 header "
                        "extensions, read and written by id.")
      .def(py::init([](int64_t payload_type, int64_t sequence_number, int64_t timestamp,
                       int64_t ssrc, bool marker, const std::vector<int64_t>& csrcs,
                       const py::buffer& payload, const py::dict& extensions, int64_t padding_bytes,
                       bool two_byte_extensions) {
             RtpPacket packet;
             packet.payload_type = static_cast<int>(CheckRange(payload_type, 127, "payload_type"));
             packet.sequence_number =
                 static_cast<uint16_t>(CheckRange(sequence_number, kMaxU16, "sequence_number"));
             packet.timestamp = static_cast<uint32_t>(CheckRange(timestamp, kMaxU32, "timestamp"));
             packet.ssrc = static_cast<uint32_t>(CheckRange(ssrc, kMaxU32, "ssrc"));
             packet.marker = marker;
             if (csrcs.size() > RtpPacket::kMaxCsrcs)
               throw py::value_error("an RTP packet carries at most 15 CSRCs, got " +
                                     std::to_string(csrcs.size()));
             packet.csrcs = ToSsrcs(csrcs, "csrc");
             packet.payload = ToVector(payload, "payload");
             SetExtensions(packet, extensions);
             packet.padding_bytes =
                 static_cast<size_t>(CheckRange(padding_bytes, 255, "padding_bytes"));
             packet.two_byte_extensions = two_byte_extensions;
             return packet;
           }),
           py::kw_only(), py::arg("payload_type") = 0, py::arg("sequence_number") = 0,
           py::arg("timestamp") = 0, py::arg("ssrc") = 0, py::arg("marker") = false,
           py::arg("csrcs") = std::vector<int64_t>(), py::arg("payload") = py::bytes(),
           py::arg("extensions") = py::dict(), py::arg("padding_bytes") = 0,
           py::arg("two_byte_extensions") = false)
      .def_static("parse", &ParseRtp, py::arg("data"),
                  "Parses one RTP packet; raises RtpError naming what is malformed.")
      .def("serialize", &SerializeRtp,
           "The wire form; extensions use the one-byte form (RFC 8285 4.2) when every element "
           "fits it and two_byte_extensions is False. Raises ValueError when a field does not "
           "fit its bits.")
      .def_readwrite("marker", &RtpPacket::marker)
      .def_property(
          "payload_type", [](const RtpPacket& p) { return p.payload_type; },
          [](RtpPacket& p, int64_t v) {
            p.payload_type = static_cast<int>(CheckRange(v, 127, "payload_type"));
          })
      .def_property(
          "sequence_number", [](const RtpPacket& p) { return p.sequence_number; },
          [](RtpPacket& p, int64_t v) {
            p.sequence_number = static_cast<uint16_t>(CheckRange(v, kMaxU16, "sequence_number"));
          })
      .def_property(
          "timestamp", [](const RtpPacket& p) { return p.timestamp; },
          [](RtpPacket& p, int64_t v) {
            p.timestamp = static_cast<uint32_t>(CheckRange(v, kMaxU32, "timestamp"));
          })
      .def_property(
          "ssrc", [](const RtpPacket& p) { return p.ssrc; },
          [](RtpPacket& p, int64_t v) {
            p.ssrc = static_cast<uint32_t>(CheckRange(v, kMaxU32, "ssrc"));
          })
      .def_property(
          "csrcs", [](const RtpPacket& p) { return p.csrcs; },
          [](RtpPacket& p, const std::vector<int64_t>& v) { p.csrcs = ToSsrcs(v, "csrc"); },
          "Contributing sources, at most 15 (checked by serialize).")
      .def_property(
          "payload", [](const RtpPacket& p) { return ToBytes(p.payload); },
          [](RtpPacket& p, const py::buffer& v) { p.payload = ToVector(v, "payload"); })
      .def_property(
          "padding_bytes", [](const RtpPacket& p) { return p.padding_bytes; },
          [](RtpPacket& p, int64_t v) {
            p.padding_bytes = static_cast<size_t>(CheckRange(v, 255, "padding_bytes"));
          },
          "Padding after the payload, its final count byte included; 0 for none.")
      .def_readwrite("two_byte_extensions", &RtpPacket::two_byte_extensions,
                     "Parsed: whether the two-byte form was used. Written: force it.")
      .def_property("extensions", &GetExtensions, &SetExtensions,
                    "Header extensions as {id: data} (a copy; assign to replace them all).")
      .def_property_readonly(
          "extension_profile",
          [](const RtpPacket& p) -> std::optional<int> { return p.other_extension_profile; },
          "The profile of a header extension in neither RFC 8285 form (kept whole and "
          "written back), else None.")
      .def("get_extension", &GetExtension, py::arg("id"), "The data of extension id, or None.")
      .def("set_extension", &SetExtension, py::arg("id"), py::arg("data"),
           "Adds or replaces extension id (1..255, at most 255 bytes).")
      .def("remove_extension", &RtpPacket::RemoveExtension, py::arg("id"),
           "Removes extension id; returns whether it was there.")
      .def("__repr__", &ReprRtp);
}

// ---- RTCP

py::list ParseRtcp(const py::buffer& data_obj) {
  ByteView data(data_obj, "data");
  std::string error;
  auto packets = RtcpCompound::Parse(data.data(), data.size(), &error);
  if (!packets) RaiseError("RtpError", error);
  py::list out;
  for (RtcpPacket& packet : *packets)
    out.append(std::visit([](auto&& p) { return py::cast(std::move(p)); }, std::move(packet)));
  return out;
}

// Any one of the packet classes, looked up by exact type.
RtcpPacket ToRtcpPacket(const py::handle& item) {
  if (py::isinstance<SenderReport>(item)) return item.cast<SenderReport>();
  if (py::isinstance<ReceiverReport>(item)) return item.cast<ReceiverReport>();
  if (py::isinstance<Sdes>(item)) return item.cast<Sdes>();
  if (py::isinstance<Bye>(item)) return item.cast<Bye>();
  if (py::isinstance<Nack>(item)) return item.cast<Nack>();
  if (py::isinstance<Pli>(item)) return item.cast<Pli>();
  if (py::isinstance<Fir>(item)) return item.cast<Fir>();
  if (py::isinstance<Remb>(item)) return item.cast<Remb>();
  if (py::isinstance<TransportFeedback>(item)) return item.cast<TransportFeedback>();
  if (py::isinstance<RtcpUnknown>(item)) return item.cast<RtcpUnknown>();
  throw py::type_error("an RTCP packet must be one of the Rtcp* classes, got " +
                       py::str(py::type::of(item)).cast<std::string>());
}

py::bytes SerializeRtcp(const py::iterable& packets_obj) {
  std::vector<RtcpPacket> packets;
  for (const py::handle& item : packets_obj) packets.push_back(ToRtcpPacket(item));
  std::vector<uint8_t> out;
  CheckConfig(RtcpCompound::Serialize(packets, &out));
  return ToBytes(out);
}

template <typename T>
py::bytes SerializeOne(const T& packet) {
  std::vector<uint8_t> out;
  CheckConfig(RtcpCompound::Serialize({RtcpPacket(packet)}, &out));
  return ToBytes(out);
}

bool IsRtcp(const py::buffer& data_obj) {
  // RFC 5761 section 4: with RTP and RTCP multiplexed, a second byte of
  // 192..223 is an RTCP packet type (payload types 64..95 are avoided).
  ByteView data(data_obj, "data");
  return data.size() >= 2 && data.data()[1] >= 192 && data.data()[1] <= 223;
}

// A property holding a 32-bit unsigned field, checked on assignment.
template <typename T>
void DefU32(py::class_<T>& cls, const char* name, uint32_t T::*field) {
  cls.def_property(
      name, [field](const T& self) { return self.*field; },
      [field, name](T& self, int64_t v) {
        self.*field = static_cast<uint32_t>(CheckRange(v, kMaxU32, name));
      });
}

void BindReportBlock(py::module_& m) {
  py::class_<ReportBlock> cls(m, "RtcpReportBlock",
                              "RFC 3550 section 6.4.1 reception report about one source.");
  cls.def(py::init([](int64_t ssrc, int fraction_lost, int cumulative_lost,
                      int64_t extended_highest_sequence, int64_t jitter, int64_t last_sr,
                      int64_t delay_since_last_sr) {
            ReportBlock b;
            b.ssrc = static_cast<uint32_t>(CheckRange(ssrc, kMaxU32, "ssrc"));
            b.fraction_lost = fraction_lost;
            b.cumulative_lost = cumulative_lost;
            b.extended_highest_sequence = static_cast<uint32_t>(
                CheckRange(extended_highest_sequence, kMaxU32, "extended_highest_sequence"));
            b.jitter = static_cast<uint32_t>(CheckRange(jitter, kMaxU32, "jitter"));
            b.last_sr = static_cast<uint32_t>(CheckRange(last_sr, kMaxU32, "last_sr"));
            b.delay_since_last_sr = static_cast<uint32_t>(
                CheckRange(delay_since_last_sr, kMaxU32, "delay_since_last_sr"));
            return b;
          }),
          py::kw_only(), py::arg("ssrc") = 0, py::arg("fraction_lost") = 0,
          py::arg("cumulative_lost") = 0, py::arg("extended_highest_sequence") = 0,
          py::arg("jitter") = 0, py::arg("last_sr") = 0, py::arg("delay_since_last_sr") = 0);
  DefU32(cls, "ssrc", &ReportBlock::ssrc);
  cls.def_readwrite("fraction_lost", &ReportBlock::fraction_lost,
                    "Lost fraction of the interval, 8-bit fixed point (lost * 256 / expected).");
  cls.def_readwrite("cumulative_lost", &ReportBlock::cumulative_lost, "24-bit signed.");
  DefU32(cls, "extended_highest_sequence", &ReportBlock::extended_highest_sequence);
  DefU32(cls, "jitter", &ReportBlock::jitter);
  DefU32(cls, "last_sr", &ReportBlock::last_sr);
  DefU32(cls, "delay_since_last_sr", &ReportBlock::delay_since_last_sr);
  cls.def("__repr__", [](const ReportBlock& b) {
    return "RtcpReportBlock(ssrc=" + std::to_string(b.ssrc) +
           ", fraction_lost=" + std::to_string(b.fraction_lost) +
           ", cumulative_lost=" + std::to_string(b.cumulative_lost) +
           ", extended_highest_sequence=" + std::to_string(b.extended_highest_sequence) +
           ", jitter=" + std::to_string(b.jitter) + ")";
  });
}

void BindReports(py::module_& m) {
  py::class_<SenderReport> sr(m, "RtcpSenderReport", "RFC 3550 section 6.4.1 (type 200).");
  sr.def(
      py::init([](int64_t ssrc, uint64_t ntp_timestamp, int64_t rtp_timestamp, int64_t packet_count,
                  int64_t octet_count, std::vector<ReportBlock> report_blocks) {
        SenderReport p;
        p.ssrc = static_cast<uint32_t>(CheckRange(ssrc, kMaxU32, "ssrc"));
        p.ntp_timestamp = ntp_timestamp;
        p.rtp_timestamp =
            static_cast<uint32_t>(CheckRange(rtp_timestamp, kMaxU32, "rtp_timestamp"));
        p.packet_count = static_cast<uint32_t>(CheckRange(packet_count, kMaxU32, "packet_count"));
        p.octet_count = static_cast<uint32_t>(CheckRange(octet_count, kMaxU32, "octet_count"));
        p.report_blocks = std::move(report_blocks);
        return p;
      }),
      py::kw_only(), py::arg("ssrc") = 0, py::arg("ntp_timestamp") = 0,
      py::arg("rtp_timestamp") = 0, py::arg("packet_count") = 0, py::arg("octet_count") = 0,
      py::arg("report_blocks") = std::vector<ReportBlock>());
  DefU32(sr, "ssrc", &SenderReport::ssrc);
  sr.def_readwrite("ntp_timestamp", &SenderReport::ntp_timestamp,
                   "64-bit NTP time: 32.32 fixed point seconds since 1900.");
  DefU32(sr, "rtp_timestamp", &SenderReport::rtp_timestamp);
  DefU32(sr, "packet_count", &SenderReport::packet_count);
  DefU32(sr, "octet_count", &SenderReport::octet_count);
  sr.def_readwrite("report_blocks", &SenderReport::report_blocks,
                   "A copy on read: assign a new list to change it.");
  sr.def("serialize", &SerializeOne<SenderReport>);

  py::class_<ReceiverReport> rr(m, "RtcpReceiverReport", "RFC 3550 section 6.4.2 (type 201).");
  rr.def(py::init([](int64_t ssrc, std::vector<ReportBlock> report_blocks) {
           ReceiverReport p;
           p.ssrc = static_cast<uint32_t>(CheckRange(ssrc, kMaxU32, "ssrc"));
           p.report_blocks = std::move(report_blocks);
           return p;
         }),
         py::kw_only(), py::arg("ssrc") = 0, py::arg("report_blocks") = std::vector<ReportBlock>());
  DefU32(rr, "ssrc", &ReceiverReport::ssrc);
  rr.def_readwrite("report_blocks", &ReceiverReport::report_blocks,
                   "A copy on read: assign a new list to change it.");
  rr.def("serialize", &SerializeOne<ReceiverReport>);
}

std::vector<rtp::SdesItem> ToSdesItems(const py::iterable& items) {
  std::vector<rtp::SdesItem> out;
  for (const py::handle& item : items) {
    auto pair = item.cast<py::tuple>();
    if (pair.size() != 2) throw py::value_error("an SDES item must be (type, value)");
    out.push_back({pair[0].cast<int>(), ToString(pair[1].cast<py::buffer>(), "SDES value")});
  }
  return out;
}

void BindSdesAndBye(py::module_& m) {
  py::class_<SdesChunk> chunk(m, "RtcpSdesChunk",
                              "One source's SDES items (RFC 3550 section 6.5).");
  chunk.def(py::init([](int64_t ssrc, std::optional<std::string> cname, const py::iterable& items) {
              SdesChunk c;
              c.ssrc = static_cast<uint32_t>(CheckRange(ssrc, kMaxU32, "ssrc"));
              if (cname) c.items.push_back({kSdesCname, *cname});
              for (auto& item : ToSdesItems(items)) c.items.push_back(std::move(item));
              return c;
            }),
            py::kw_only(), py::arg("ssrc") = 0, py::arg("cname") = py::none(),
            py::arg("items") = py::tuple());
  DefU32(chunk, "ssrc", &SdesChunk::ssrc);
  chunk.def_property_readonly(
      "cname",
      [](const SdesChunk& c) -> py::object {
        for (const auto& item : c.items)
          if (item.type == kSdesCname) return DecodeText(item.value);
        return py::none();
      },
      "The CNAME item (type 1) as text, or None.");
  chunk.def_property(
      "items",
      [](const SdesChunk& c) {
        py::list out;
        for (const auto& item : c.items) out.append(py::make_tuple(item.type, ToBytes(item.value)));
        return out;
      },
      [](SdesChunk& c, const py::iterable& items) { c.items = ToSdesItems(items); },
      "Every item as (type, value bytes), in wire order.");

  py::class_<Sdes> sdes(m, "RtcpSdes", "RFC 3550 section 6.5 (type 202).");
  sdes.def(py::init([](std::vector<SdesChunk> chunks) { return Sdes{std::move(chunks)}; }),
           py::kw_only(), py::arg("chunks") = std::vector<SdesChunk>());
  sdes.def_readwrite("chunks", &Sdes::chunks, "A copy on read: assign a new list to change it.");
  sdes.def("serialize", &SerializeOne<Sdes>);

  py::class_<Bye> bye(m, "RtcpBye", "RFC 3550 section 6.6 (type 203).");
  bye.def(py::init([](const std::vector<int64_t>& ssrcs, const std::string& reason) {
            return Bye{ToSsrcs(ssrcs, "ssrc"), reason};
          }),
          py::kw_only(), py::arg("ssrcs") = std::vector<int64_t>(), py::arg("reason") = "");
  bye.def_property(
      "ssrcs", [](const Bye& b) { return b.ssrcs; },
      [](Bye& b, const std::vector<int64_t>& v) { b.ssrcs = ToSsrcs(v, "ssrc"); });
  bye.def_property(
      "reason", [](const Bye& b) { return DecodeText(b.reason); },
      [](Bye& b, const std::string& v) { b.reason = v; }, "UTF-8 text, '' when absent.");
  bye.def("serialize", &SerializeOne<Bye>);
}

void BindFeedback(py::module_& m) {
  py::class_<Nack> nack(m, "RtcpNack", "RFC 4585 section 6.2.1 generic NACK (type 205, FMT 1).");
  nack.def(py::init([](int64_t sender_ssrc, int64_t media_ssrc, std::vector<int> sequence_numbers) {
             return Nack{static_cast<uint32_t>(CheckRange(sender_ssrc, kMaxU32, "sender_ssrc")),
                         static_cast<uint32_t>(CheckRange(media_ssrc, kMaxU32, "media_ssrc")),
                         std::move(sequence_numbers)};
           }),
           py::kw_only(), py::arg("sender_ssrc") = 0, py::arg("media_ssrc") = 0,
           py::arg("sequence_numbers") = std::vector<int>());
  DefU32(nack, "sender_ssrc", &Nack::sender_ssrc);
  DefU32(nack, "media_ssrc", &Nack::media_ssrc);
  nack.def_readwrite("sequence_numbers", &Nack::sequence_numbers,
                     "Lost sequence numbers, in wire order; written as PID+BLP pairs.");
  nack.def("serialize", &SerializeOne<Nack>);

  py::class_<Pli> pli(m, "RtcpPli", "RFC 4585 section 6.3.1 picture loss (type 206, FMT 1).");
  pli.def(py::init([](int64_t sender_ssrc, int64_t media_ssrc) {
            return Pli{static_cast<uint32_t>(CheckRange(sender_ssrc, kMaxU32, "sender_ssrc")),
                       static_cast<uint32_t>(CheckRange(media_ssrc, kMaxU32, "media_ssrc"))};
          }),
          py::kw_only(), py::arg("sender_ssrc") = 0, py::arg("media_ssrc") = 0);
  DefU32(pli, "sender_ssrc", &Pli::sender_ssrc);
  DefU32(pli, "media_ssrc", &Pli::media_ssrc);
  pli.def("serialize", &SerializeOne<Pli>);

  auto to_entries = [](const std::vector<std::pair<int64_t, int>>& entries) {
    std::vector<FirEntry> out;
    for (const auto& [ssrc, seq] : entries)
      out.push_back({static_cast<uint32_t>(CheckRange(ssrc, kMaxU32, "ssrc")), seq});
    return out;
  };
  py::class_<Fir> fir(m, "RtcpFir", "RFC 5104 section 4.3.1 full intra request (206, FMT 4).");
  fir.def(py::init([to_entries](int64_t sender_ssrc, int64_t media_ssrc,
                                const std::vector<std::pair<int64_t, int>>& entries) {
            return Fir{static_cast<uint32_t>(CheckRange(sender_ssrc, kMaxU32, "sender_ssrc")),
                       static_cast<uint32_t>(CheckRange(media_ssrc, kMaxU32, "media_ssrc")),
                       to_entries(entries)};
          }),
          py::kw_only(), py::arg("sender_ssrc") = 0, py::arg("media_ssrc") = 0,
          py::arg("entries") = std::vector<std::pair<int64_t, int>>());
  DefU32(fir, "sender_ssrc", &Fir::sender_ssrc);
  DefU32(fir, "media_ssrc", &Fir::media_ssrc);
  fir.def_property(
      "entries",
      [](const Fir& f) {
        std::vector<std::pair<uint32_t, int>> out;
        for (const FirEntry& e : f.entries) out.emplace_back(e.ssrc, e.sequence_number);
        return out;
      },
      [to_entries](Fir& f, const std::vector<std::pair<int64_t, int>>& v) {
        f.entries = to_entries(v);
      },
      "(ssrc, sequence_number) per requested source; the number grows by one per new request.");
  fir.def("serialize", &SerializeOne<Fir>);

  py::class_<Remb> remb(m, "RtcpRemb",
                        "Receiver estimated maximum bitrate (draft-alvestrand-rmcat-remb-03; "
                        "type 206, FMT 15).");
  remb.def(
      py::init([](int64_t sender_ssrc, uint64_t bitrate_bps, const std::vector<int64_t>& ssrcs) {
        return Remb{static_cast<uint32_t>(CheckRange(sender_ssrc, kMaxU32, "sender_ssrc")),
                    bitrate_bps, ToSsrcs(ssrcs, "ssrc")};
      }),
      py::kw_only(), py::arg("sender_ssrc") = 0, py::arg("bitrate_bps") = 0,
      py::arg("ssrcs") = std::vector<int64_t>());
  DefU32(remb, "sender_ssrc", &Remb::sender_ssrc);
  remb.def_readwrite("bitrate_bps", &Remb::bitrate_bps,
                     "Written as an 18-bit mantissa times a power of two, rounded down.");
  remb.def_property(
      "ssrcs", [](const Remb& r) { return r.ssrcs; },
      [](Remb& r, const std::vector<int64_t>& v) { r.ssrcs = ToSsrcs(v, "ssrc"); });
  remb.def("serialize", &SerializeOne<Remb>);

  py::class_<TransportFeedback> twcc(
      m, "RtcpTransportFeedback",
      "Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-"
      "extensions-01 section 3.1; type 205, FMT 15).");
  twcc.def(
      py::init([](int64_t sender_ssrc, int64_t media_ssrc, int64_t base_sequence,
                  int64_t feedback_count, std::vector<std::optional<int64_t>> arrival_times_us) {
        TransportFeedback f;
        f.sender_ssrc = static_cast<uint32_t>(CheckRange(sender_ssrc, kMaxU32, "sender_ssrc"));
        f.media_ssrc = static_cast<uint32_t>(CheckRange(media_ssrc, kMaxU32, "media_ssrc"));
        f.base_sequence = static_cast<int>(CheckRange(base_sequence, kMaxU16, "base_sequence"));
        f.feedback_count = static_cast<int>(CheckRange(feedback_count, 255, "feedback_count"));
        f.arrival_times_us = std::move(arrival_times_us);
        return f;
      }),
      py::kw_only(), py::arg("sender_ssrc") = 0, py::arg("media_ssrc") = 0,
      py::arg("base_sequence") = 0, py::arg("feedback_count") = 0,
      py::arg("arrival_times_us") = std::vector<std::optional<int64_t>>());
  DefU32(twcc, "sender_ssrc", &TransportFeedback::sender_ssrc);
  DefU32(twcc, "media_ssrc", &TransportFeedback::media_ssrc);
  twcc.def_readwrite("base_sequence", &TransportFeedback::base_sequence,
                     "Transport-wide sequence number of the first packet reported.");
  twcc.def_readwrite("feedback_count", &TransportFeedback::feedback_count);
  twcc.def_readwrite("arrival_times_us", &TransportFeedback::arrival_times_us,
                     "Per packet from base_sequence on: arrival time in µs on the receiver's "
                     "clock (written in 250 µs steps), or None when lost.");
  twcc.def("serialize", &SerializeOne<TransportFeedback>);

  py::class_<RtcpUnknown> unknown(m, "RtcpUnknown",
                                  "Any other RTCP packet (APP, XR, ...), kept whole.");
  unknown.def(py::init([](int packet_type, int count, const py::buffer& body) {
                return RtcpUnknown{packet_type, count, ToString(body, "body")};
              }),
              py::kw_only(), py::arg("packet_type"), py::arg("count") = 0,
              py::arg("body") = py::bytes());
  unknown.def_readwrite("packet_type", &RtcpUnknown::packet_type);
  unknown.def_readwrite("count", &RtcpUnknown::count, "The 5-bit count or FMT field.");
  unknown.def_property(
      "body", [](const RtcpUnknown& u) { return ToBytes(u.body); },
      [](RtcpUnknown& u, const py::buffer& v) { u.body = ToString(v, "body"); },
      "The bytes after the 4-byte header, padding removed.");
  unknown.def("serialize", &SerializeOne<RtcpUnknown>);
}

// ---- Unwrapping, statistics, NACK

void BindUnwrapper(py::module_& m) {
  py::class_<SequenceUnwrapper>(m, "SequenceUnwrapper",
                                "Unwraps a 16-bit sequence number (bits=16) or a 32-bit RTP "
                                "timestamp (bits=32) into a monotonic int by nearest distance.")
      .def(py::init([](int bits) {
             if (bits < 1 || bits > 32)
               throw py::value_error("bits must be within 1..32, got " + std::to_string(bits));
             return SequenceUnwrapper(bits);
           }),
           py::kw_only(), py::arg("bits") = 16)
      .def(
          "unwrap",
          [](SequenceUnwrapper& u, int64_t value) {
            const int64_t most = (int64_t{1} << u.bits()) - 1;
            return u.Unwrap(static_cast<uint32_t>(CheckRange(value, most, "value")));
          },
          py::arg("value"), "Unwraps value and makes it the reference for the next.")
      .def(
          "peek",
          [](const SequenceUnwrapper& u, int64_t value) {
            const int64_t most = (int64_t{1} << u.bits()) - 1;
            return u.Peek(static_cast<uint32_t>(CheckRange(value, most, "value")));
          },
          py::arg("value"), "The unwrapped value without remembering it.")
      .def("reset", &SequenceUnwrapper::Reset)
      .def_property_readonly("bits", &SequenceUnwrapper::bits)
      .def_property_readonly("last", &SequenceUnwrapper::last, "The last unwrapped value or None.");
}

py::dict ReceiveStats(const ReceiveStatistics& s) {
  py::dict d;
  d["packetsReceived"] = s.packets_received();
  d["packetsLost"] = s.cumulative_lost();
  d["packetsDuplicated"] = s.packets_duplicated();
  d["bytesReceived"] = s.bytes_received();
  d["jitter"] = s.jitter_ms() / 1000.0;
  return d;
}

void BindReceiveStatistics(py::module_& m) {
  py::class_<ReceiveStatistics>(m, "ReceiveStatistics",
                                "Receive statistics of one RTP stream: RFC 3550 appendix A.1, "
                                "A.3 and A.8, and its reception report block.")
      .def(py::init([](int64_t ssrc, int clock_rate_hz) {
             CheckConfig(ReceiveStatistics::ValidateConfig(clock_rate_hz));
             return std::make_unique<ReceiveStatistics>(
                 static_cast<uint32_t>(CheckRange(ssrc, kMaxU32, "ssrc")), clock_rate_hz);
           }),
           py::kw_only(), py::arg("ssrc"), py::arg("clock_rate_hz"))
      .def(
          "on_packet",
          [](ReceiveStatistics& s, int64_t sequence_number, int64_t timestamp,
             double arrival_time_ms, int64_t payload_bytes) {
            CheckRange(sequence_number, kMaxU16, "sequence_number");
            CheckRange(timestamp, kMaxU32, "timestamp");
            CheckRange(payload_bytes, INT32_MAX, "payload_bytes");
            if (!std::isfinite(arrival_time_ms))
              throw py::value_error("arrival_time_ms must be a finite number");
            return s.OnPacket(static_cast<uint16_t>(sequence_number),
                              static_cast<uint32_t>(timestamp), arrival_time_ms,
                              static_cast<size_t>(payload_bytes));
          },
          py::kw_only(), py::arg("sequence_number"), py::arg("timestamp"),
          py::arg("arrival_time_ms"), py::arg("payload_bytes") = 0,
          "Counts one packet; False when it was a duplicate or the first after a jump of "
          "more than 3000 (RFC 3550 A.1: a restart is believed on the next packet).")
      .def(
          "on_sender_report",
          [](ReceiveStatistics& s, uint64_t ntp_timestamp, double arrival_time_ms) {
            s.OnSenderReport(ntp_timestamp, arrival_time_ms);
          },
          py::kw_only(), py::arg("ntp_timestamp"), py::arg("arrival_time_ms"),
          "Remembers this source's last SR for the LSR and DLSR of the report block.")
      .def("report_block", &ReceiveStatistics::MakeReportBlock, py::arg("now_ms"),
           "The RFC 3550 6.4.1 report block for now_ms (None before any packet); starts a new "
           "fraction_lost interval.")
      .def("stats", &ReceiveStats,
           "W3C webrtc-stats names: packetsReceived, packetsLost, packetsDuplicated, "
           "bytesReceived, jitter (s).")
      .def("reset", &ReceiveStatistics::Reset)
      .def_property_readonly("ssrc", &ReceiveStatistics::ssrc)
      .def_property_readonly("clock_rate_hz", &ReceiveStatistics::clock_rate_hz)
      .def_property_readonly("extended_highest_sequence",
                             &ReceiveStatistics::extended_highest_sequence)
      .def_property_readonly("packets_expected", &ReceiveStatistics::packets_expected)
      .def_property_readonly("cumulative_lost", &ReceiveStatistics::cumulative_lost)
      .def_property_readonly("fraction_lost", &ReceiveStatistics::fraction_lost,
                             "Of the interval before the last report_block, in 1/256.")
      .def_property_readonly("jitter_timestamp_units", &ReceiveStatistics::jitter_timestamp_units)
      .def_property_readonly("jitter_ms", &ReceiveStatistics::jitter_ms)
      .def_property_readonly("packets_received", &ReceiveStatistics::packets_received)
      .def_property_readonly("packets_duplicated", &ReceiveStatistics::packets_duplicated)
      .def_property_readonly("bytes_received", &ReceiveStatistics::bytes_received);
}

void BindNackTracker(py::module_& m) {
  py::class_<NackTracker>(m, "NackTracker",
                          "Lost sequence numbers to request by generic NACK (RFC 4585), once "
                          "per round-trip time, with a retry limit and a maximum age.")
      .def(py::init([](int max_retries, double max_age_ms, int max_missing_packets,
                       double reorder_delay_ms, double repeat_delay_ms) {
             NackTrackerConfig config{max_retries, max_age_ms, max_missing_packets,
                                      reorder_delay_ms, repeat_delay_ms};
             CheckConfig(NackTracker::ValidateConfig(config));
             return std::make_unique<NackTracker>(config);
           }),
           py::kw_only(), py::arg("max_retries") = 10, py::arg("max_age_ms") = 1000.0,
           py::arg("max_missing_packets") = 1000, py::arg("reorder_delay_ms") = 0.0,
           py::arg("repeat_delay_ms") = 0.0)
      .def(
          "on_packet",
          [](NackTracker& t, int64_t sequence_number, double now_ms) {
            CheckRange(sequence_number, kMaxU16, "sequence_number");
            if (!std::isfinite(now_ms)) throw py::value_error("now_ms must be a finite number");
            return t.OnPacket(static_cast<uint16_t>(sequence_number), now_ms);
          },
          py::arg("sequence_number"), py::kw_only(), py::arg("now_ms"),
          "Records an arrival; True when it filled a tracked gap.")
      .def(
          "nack_list",
          [](NackTracker& t, double now_ms, double rtt_ms) {
            if (!std::isfinite(now_ms)) throw py::value_error("now_ms must be a finite number");
            if (!std::isfinite(rtt_ms) || rtt_ms < 0)
              throw py::value_error("rtt_ms must be a non-negative number");
            return t.NackList(now_ms, rtt_ms);
          },
          py::arg("now_ms"), py::kw_only(), py::arg("rtt_ms"),
          "Sequence numbers to request now, oldest first: new gaps, those requested once "
          "repeat_delay_ms ago (when set), and those last requested at least rtt_ms ago; each "
          "call counts as one request of each.")
      .def_property_readonly("missing", &NackTracker::Missing,
                             "Every sequence number still missing, oldest first.")
      .def_property_readonly("missing_count", &NackTracker::missing_count)
      .def_property_readonly("requests_sent", &NackTracker::requests_sent)
      .def_property_readonly("packets_recovered", &NackTracker::packets_recovered)
      .def_property_readonly("packets_abandoned", &NackTracker::packets_abandoned,
                             "Given up: out of retries, too old, or beyond max_missing_packets.")
      .def_property_readonly("max_retries",
                             [](const NackTracker& t) { return t.config().max_retries; })
      .def_property_readonly("max_age_ms",
                             [](const NackTracker& t) { return t.config().max_age_ms; })
      .def_property_readonly("reorder_delay_ms",
                             [](const NackTracker& t) { return t.config().reorder_delay_ms; })
      .def_property_readonly("repeat_delay_ms",
                             [](const NackTracker& t) { return t.config().repeat_delay_ms; })
      .def_property_readonly("max_missing_packets",
                             [](const NackTracker& t) { return t.config().max_missing_packets; })
      .def("reset", &NackTracker::Reset, "Forgets the stream; the counters stay.");
}

}  // namespace

void init_rtp(py::module_& m) {
  BindRtpPacket(m);
  BindReportBlock(m);
  BindReports(m);
  BindSdesAndBye(m);
  BindFeedback(m);
  m.def("parse_rtcp", &ParseRtcp, py::arg("data"),
        "Parses a compound RTCP packet into a list of Rtcp* objects, in order; raises RtpError "
        "naming what is malformed.");
  m.def("serialize_rtcp", &SerializeRtcp, py::arg("packets"),
        "Writes Rtcp* objects, in order, as one compound packet.");
  m.def("is_rtcp_packet", &IsRtcp, py::arg("data"),
        "RFC 5761 demultiplexing: True when the second byte is an RTCP packet type (192..223).");
  BindUnwrapper(m);
  BindReceiveStatistics(m);
  BindNackTracker(m);
}

}  // namespace cloudlink::bindings
