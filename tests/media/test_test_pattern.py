"""The stamped test pattern: its frame number and send time come back from
the raw frame and after VP8 coding, damage is caught by the CRC, and bad
arguments are refused."""

from __future__ import annotations

import numpy as np
import pytest

from cloudlink import _native
from cloudlink.errors import ConfigError
from cloudlink.media.test_pattern import TestPattern, TestPatternStamp, read_test_pattern


@pytest.mark.parametrize(("width_px", "height_px"), [(160, 120), (320, 240), (1280, 720)])
def test_stamp_round_trips_in_the_raw_frame(width_px: int, height_px: int) -> None:
    pattern = TestPattern(width_px=width_px, height_px=height_px)
    for number, sent_ms in [(0, 0), (1, 33), (2**32 - 1, 2**48 - 1), (123456, 1_764_000_000_000)]:
        frame = pattern.frame(number, send_time_ms=sent_ms)
        assert frame.shape == (height_px * 3 // 2, width_px) and frame.dtype == np.uint8
        assert read_test_pattern(frame) == TestPatternStamp(number, sent_ms)


def test_default_send_time_follows_the_frame_rate() -> None:
    pattern = TestPattern(width_px=320, height_px=240, frame_rate_fps=25)
    assert read_test_pattern(pattern.frame(50)) == TestPatternStamp(50, 2000)


def test_frames_move() -> None:
    pattern = TestPattern(width_px=320, height_px=240)
    a, b = pattern.frame(10), pattern.frame(11)
    below_strip = slice(64, 240)
    assert np.mean(a[below_strip] != b[below_strip]) > 0.3


@pytest.mark.parametrize(
    ("width_px", "height_px", "bitrate_bps"), [(320, 240, 150_000), (1280, 720, 1_500_000)]
)
def test_stamp_survives_vp8(width_px: int, height_px: int, bitrate_bps: int) -> None:
    pattern = TestPattern(width_px=width_px, height_px=height_px)
    encoder = _native.Vp8Encoder(width_px=width_px, height_px=height_px, bitrate_bps=bitrate_bps)
    decoder = _native.Vp8Decoder()
    for number in range(12):
        sent_ms = 1_764_000_000_000 + number * 33
        decoded = decoder.decode(encoder.encode(pattern.frame(number, send_time_ms=sent_ms)).data)
        assert decoded is not None
        assert read_test_pattern(decoded) == TestPatternStamp(number, sent_ms)


def test_damage_is_caught_by_the_crc() -> None:
    pattern = TestPattern(width_px=320, height_px=240)
    frame = pattern.frame(77, send_time_ms=5)
    # Invert one cell (8 px at this width) of the frame number.
    frame[:8, 8 * 20 : 8 * 21] = 255 - frame[:8, 8 * 20 : 8 * 21]
    assert read_test_pattern(frame) is None
    grey = np.full((360, 320), 128, dtype=np.uint8)
    assert read_test_pattern(grey) is None


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ConfigError, match="width_px"):
        TestPattern(width_px=63, height_px=240)
    with pytest.raises(ConfigError, match="height_px"):
        TestPattern(width_px=64, height_px=40)
    with pytest.raises(ConfigError, match="frame_rate_fps"):
        TestPattern(width_px=320, height_px=240, frame_rate_fps=0)
    pattern = TestPattern(width_px=320, height_px=240)
    with pytest.raises(ConfigError, match="frame_number"):
        pattern.frame(-1)
    with pytest.raises(ConfigError, match="send_time_ms"):
        pattern.frame(1, send_time_ms=2**48)
    with pytest.raises(ConfigError, match="I420"):
        read_test_pattern(np.zeros((240, 320), dtype=np.float32))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="I420"):
        read_test_pattern(np.zeros((240, 320, 3), dtype=np.uint8))
