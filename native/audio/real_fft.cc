#include "audio/real_fft.h"

#include <cassert>
#include <cmath>
#include <utility>

namespace cloudlink::audio {
namespace {

constexpr double kPi = 3.14159265358979323846;

}  // namespace

RealFft::RealFft(int size_samples) : size_samples_(size_samples), half_(size_samples / 2) {
  assert(size_samples >= 4 && (size_samples & (size_samples - 1)) == 0);

  // Bit-reversed order of the half-length complex transform.
  int bits = 0;
  while ((1 << bits) < half_) ++bits;
  bit_reverse_.resize(half_);
  for (int i = 0; i < half_; ++i) {
    int reversed = 0;
    for (int b = 0; b < bits; ++b) reversed |= ((i >> b) & 1) << (bits - 1 - b);
    bit_reverse_[i] = reversed;
  }

  // Per-stage twiddles, contiguous so that each stage reads them in order.
  for (int span = 1; span < half_; span *= 2) {
    for (int j = 0; j < span; ++j) {
      const double angle = -kPi * j / span;
      twiddle_re_.push_back(static_cast<float>(std::cos(angle)));
      twiddle_im_.push_back(static_cast<float>(std::sin(angle)));
    }
  }

  // Twiddles of the split between the packed complex and the real spectrum.
  split_re_.resize(half_ + 1);
  split_im_.resize(half_ + 1);
  for (int k = 0; k <= half_; ++k) {
    const double angle = -2.0 * kPi * k / size_samples_;
    split_re_[k] = static_cast<float>(std::cos(angle));
    split_im_[k] = static_cast<float>(std::sin(angle));
  }
  work_re_.resize(half_);
  work_im_.resize(half_);
}

void RealFft::ComplexForward() {
  // Reorder the input so that the butterflies run in place.
  float* re = work_re_.data();
  float* im = work_im_.data();
  for (int i = 0; i < half_; ++i) {
    const int j = bit_reverse_[i];
    if (j > i) {
      std::swap(re[i], re[j]);
      std::swap(im[i], im[j]);
    }
  }

  // The first two stages together: their twiddles are 1 and -i, so each
  // group of four points needs additions only.
  int first_span = 1;
  if (half_ >= 4) {
    for (int start = 0; start < half_; start += 4) {
      float* r = re + start;
      float* m = im + start;
      const float s0_re = r[0] + r[1], s0_im = m[0] + m[1];
      const float d0_re = r[0] - r[1], d0_im = m[0] - m[1];
      const float s1_re = r[2] + r[3], s1_im = m[2] + m[3];
      const float d1_re = r[2] - r[3], d1_im = m[2] - m[3];
      r[0] = s0_re + s1_re;
      m[0] = s0_im + s1_im;
      r[2] = s0_re - s1_re;
      m[2] = s0_im - s1_im;
      // (d1 * -i) = (d1_im, -d1_re)
      r[1] = d0_re + d1_im;
      m[1] = d0_im - d1_re;
      r[3] = d0_re - d1_im;
      m[3] = d0_im + d1_re;
    }
    first_span = 4;
  }

  // Remaining butterflies, span doubling each stage.
  const float* tw_re = twiddle_re_.data() + (first_span - 1);
  const float* tw_im = twiddle_im_.data() + (first_span - 1);
  for (int span = first_span; span < half_; span *= 2) {
    for (int start = 0; start < half_; start += 2 * span) {
      float* a_re = re + start;
      float* a_im = im + start;
      float* b_re = a_re + span;
      float* b_im = a_im + span;
      for (int j = 0; j < span; ++j) {
        const float t_re = b_re[j] * tw_re[j] - b_im[j] * tw_im[j];
        const float t_im = b_re[j] * tw_im[j] + b_im[j] * tw_re[j];
        b_re[j] = a_re[j] - t_re;
        b_im[j] = a_im[j] - t_im;
        a_re[j] += t_re;
        a_im[j] += t_im;
      }
    }
    tw_re += span;
    tw_im += span;
  }
}

void RealFft::Forward(const float* input, float* re, float* im) {
  // Pack even samples as real and odd samples as imaginary parts.
  for (int n = 0; n < half_; ++n) {
    work_re_[n] = input[2 * n];
    work_im_[n] = input[2 * n + 1];
  }
  ComplexForward();

  // Split Z into the spectra of the even (Fe) and odd (Fo) samples, then
  // X[k] = Fe[k] + W^k Fo[k].
  for (int k = 0; k <= half_; ++k) {
    const int a = k == half_ ? 0 : k;
    const int b = k == 0 ? 0 : half_ - k;
    const float fe_re = 0.5f * (work_re_[a] + work_re_[b]);
    const float fe_im = 0.5f * (work_im_[a] - work_im_[b]);
    // Fo = (Z[k] - conj(Z[M-k])) / (2i)
    const float fo_re = 0.5f * (work_im_[a] + work_im_[b]);
    const float fo_im = -0.5f * (work_re_[a] - work_re_[b]);
    re[k] = fe_re + split_re_[k] * fo_re - split_im_[k] * fo_im;
    im[k] = fe_im + split_re_[k] * fo_im + split_im_[k] * fo_re;
  }
  im[0] = 0.0f;
  im[half_] = 0.0f;
}

void RealFft::Inverse(const float* re, const float* im, float* output) {
  // Rebuild Fe and Fo from X[k] and conj(X[M-k]), then Z = Fe + i Fo; the
  // transform runs on conj(Z) so that the forward butterflies serve.
  for (int k = 0; k < half_; ++k) {
    const int m = half_ - k;
    const float xm_re = re[m];
    const float xm_im = k == 0 ? 0.0f : -im[m];
    const float xk_im = k == 0 ? 0.0f : im[k];
    const float fe_re = 0.5f * (re[k] + xm_re);
    const float fe_im = 0.5f * (xk_im + xm_im);
    const float d_re = 0.5f * (re[k] - xm_re);
    const float d_im = 0.5f * (xk_im - xm_im);
    // Fo = d / W^k = d * conj(W^k)
    const float fo_re = d_re * split_re_[k] + d_im * split_im_[k];
    const float fo_im = d_im * split_re_[k] - d_re * split_im_[k];
    work_re_[k] = fe_re - fo_im;
    work_im_[k] = -(fe_im + fo_re);
  }
  ComplexForward();

  // conj of the result, scaled by 1/M, unpacks to even and odd samples.
  const float scale = 1.0f / static_cast<float>(half_);
  for (int n = 0; n < half_; ++n) {
    output[2 * n] = work_re_[n] * scale;
    output[2 * n + 1] = -work_im_[n] * scale;
  }
}

}  // namespace cloudlink::audio
