/* Raw libopus, timed in C, for bench/bench_codec.py: the same frames and
 * settings as CloudLink's binding, called straight from C so the benchmark
 * can state what the binding costs on top of libopus itself.
 *
 * Built at bench time as a shared library (cc -O2 -shared -fPIC, flags from
 * `pkg-config --cflags --libs opus`) so that the benchmark can run it in the
 * same process, interleaved with ours block by block: on a busy machine
 * both then see the same load. Each call loops over a block of frames in C
 * and returns the thread CPU time of that loop alone; the one Python call
 * per block is outside the timed region.
 */

#include <opus.h>
#include <time.h>

enum {
  kSampleRateHz = 48000,
  kFrameSamples = 960,   /* 20 ms at 48 kHz */
  kMaxPacketBytes = 4000 /* as in native/bindings/bind_opus.cc */
};

static long long ThreadCpuNs(void) {
  struct timespec now;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

/* 48 kHz mono voip, 32 kbit/s, complexity 9, in-band FEC, 10% expected
 * loss, voice: the controls OpusEncoder's constructor sets, in its order. */
OpusEncoder* raw_encoder_new(void) {
  int error = OPUS_OK;
  OpusEncoder* encoder = opus_encoder_create(kSampleRateHz, 1, OPUS_APPLICATION_VOIP, &error);
  if (error != OPUS_OK) return NULL;
  opus_encoder_ctl(encoder, OPUS_SET_BITRATE(32000));
  opus_encoder_ctl(encoder, OPUS_SET_COMPLEXITY(9));
  opus_encoder_ctl(encoder, OPUS_SET_INBAND_FEC(1));
  opus_encoder_ctl(encoder, OPUS_SET_PACKET_LOSS_PERC(10));
  opus_encoder_ctl(encoder, OPUS_SET_DTX(0));
  opus_encoder_ctl(encoder, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
  return encoder;
}

void raw_encoder_free(OpusEncoder* encoder) { opus_encoder_destroy(encoder); }

/* Encodes `frames` consecutive 20 ms frames of `pcm`; packet i goes to
 * out + i * kMaxPacketBytes, its length to lengths[i]. Returns the CPU time
 * in ns, or -1 when libopus fails. */
long long raw_encode(OpusEncoder* encoder, const opus_int16* pcm, int frames, unsigned char* out,
                     int* lengths) {
  const long long start_ns = ThreadCpuNs();
  for (int f = 0; f < frames; ++f) {
    lengths[f] = opus_encode(encoder, pcm + (long)f * kFrameSamples, kFrameSamples,
                             out + (long)f * kMaxPacketBytes, kMaxPacketBytes);
  }
  const long long elapsed_ns = ThreadCpuNs() - start_ns;
  for (int f = 0; f < frames; ++f) {
    if (lengths[f] < 0) return -1;
  }
  return elapsed_ns;
}

OpusDecoder* raw_decoder_new(void) {
  int error = OPUS_OK;
  OpusDecoder* decoder = opus_decoder_create(kSampleRateHz, 1, &error);
  return error == OPUS_OK ? decoder : NULL;
}

void raw_decoder_free(OpusDecoder* decoder) { opus_decoder_destroy(decoder); }

/* Decodes `frames` packets laid end to end in `data` (lengths[i] bytes
 * each) into `pcm`, kFrameSamples per packet. Returns the CPU time in ns, or
 * -1 when a packet does not decode to one 20 ms frame. */
long long raw_decode(OpusDecoder* decoder, const unsigned char* data, const int* lengths,
                     int frames, opus_int16* pcm) {
  int failures = 0;
  const long long start_ns = ThreadCpuNs();
  for (int f = 0; f < frames; ++f) {
    const int samples =
        opus_decode(decoder, data, lengths[f], pcm + (long)f * kFrameSamples, kFrameSamples, 0);
    failures += samples != kFrameSamples;
    data += lengths[f];
  }
  const long long elapsed_ns = ThreadCpuNs() - start_ns;
  return failures == 0 ? elapsed_ns : -1;
}
