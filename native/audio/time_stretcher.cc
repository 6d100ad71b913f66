#include "audio/time_stretcher.h"

#include <cstddef>

namespace cloudlink::audio {

TimeStretcher::TimeStretcher(int sample_rate_hz, int channels)
    : sample_rate_hz_(sample_rate_hz), channels_(channels) {}

int TimeStretcher::min_input_samples() const { return sample_rate_hz_ * 30 / 1000; }

// TODO(#2): the WSOLA search lands with the time-stretcher work; until then
// no block is stretched.
int TimeStretcher::Accelerate(const int16_t* input, int input_samples,
                              std::vector<int16_t>* output) {
  output->assign(input, input + static_cast<size_t>(input_samples) * channels_);
  return 0;
}

int TimeStretcher::PreemptiveExpand(const int16_t* input, int input_samples,
                                    std::vector<int16_t>* output) {
  output->assign(input, input + static_cast<size_t>(input_samples) * channels_);
  return 0;
}

}  // namespace cloudlink::audio
