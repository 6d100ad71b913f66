"""AudioFrame: exactly 10 ms of int16 audio."""

from __future__ import annotations

import numpy as np
import pytest

from cloudlink.errors import ConfigError
from cloudlink.media.frame import AudioFrame, frame_samples


@pytest.mark.parametrize(("rate_hz", "samples"), [(8000, 80), (16000, 160), (44100, 441)])
def test_frame_samples_is_10_ms(rate_hz: int, samples: int) -> None:
    assert frame_samples(rate_hz) == samples


@pytest.mark.parametrize("rate_hz", [0, -16000, 22050])
def test_rates_without_whole_10_ms_frames_are_refused(rate_hz: int) -> None:
    with pytest.raises(ConfigError, match="multiple of 100"):
        frame_samples(rate_hz)


def test_stereo_frame_knows_its_channels_and_time() -> None:
    frame = AudioFrame(np.zeros((480, 2), np.int16), 48000, timestamp_samples=960)
    assert frame.channels == 2
    assert frame.timestamp_ms == 20.0


def test_silence_has_the_right_shape() -> None:
    frame = AudioFrame.silence(sample_rate_hz=16000, channels=2)
    assert frame.samples.shape == (160, 2)
    assert not frame.samples.any()


def test_wrong_length_and_dtype_are_refused() -> None:
    with pytest.raises(ConfigError, match="holds 160 samples"):
        AudioFrame(np.zeros(320, np.int16), 16000)
    with pytest.raises(TypeError, match="int16"):
        AudioFrame(np.zeros(160, np.float32), 16000)  # type: ignore[arg-type]
