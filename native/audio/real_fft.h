// Fast Fourier transform of a real signal whose length is a power of two:
// an iterative radix-2 decimation-in-time complex FFT of half the length
// (J. W. Cooley and J. W. Tukey, "An algorithm for the machine calculation of
// complex Fourier series", Math. Comp. 19, 1965) with the standard split that
// turns it into a real transform (E. O. Brigham, "The Fast Fourier
// Transform", 1974).

#ifndef CLOUDLINK_AUDIO_REAL_FFT_H_
#define CLOUDLINK_AUDIO_REAL_FFT_H_

#include <vector>

namespace cloudlink::audio {

class RealFft {
 public:
  // size_samples: a power of two, at least 4.
  explicit RealFft(int size_samples);

  int size_samples() const { return size_samples_; }
  // Bins of a spectrum: 0 (DC) .. size/2 (Nyquist) inclusive.
  int bins() const { return half_ + 1; }

  // Spectrum of `input` (size_samples values) into re/im (bins() values
  // each), unscaled: X[k] = sum_n x[n] exp(-2 pi i k n / N).
  void Forward(const float* input, float* re, float* im);

  // Signal of a spectrum (bins() values each; the imaginary parts of DC and
  // Nyquist are ignored), scaled by 1/N so that Inverse(Forward(x)) == x.
  void Inverse(const float* re, const float* im, float* output);

 private:
  // In-place complex FFT of half_ points on work_re_/work_im_.
  void ComplexForward();

  int size_samples_;
  int half_;
  std::vector<int> bit_reverse_;
  // Twiddles exp(-2 pi i j / (2h)) for every butterfly span h, stored per
  // stage one after the other (h = 1, 2, 4, ...).
  std::vector<float> twiddle_re_;
  std::vector<float> twiddle_im_;
  // exp(-2 pi i k / N) for k = 0 .. half_, for the real/complex split.
  std::vector<float> split_re_;
  std::vector<float> split_im_;
  std::vector<float> work_re_;
  std::vector<float> work_im_;
};

}  // namespace cloudlink::audio

#endif  // CLOUDLINK_AUDIO_REAL_FFT_H_
