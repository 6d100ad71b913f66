"""Sinks: memory, callback, WAV and PyAV containers, and their bad uses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cloudlink.errors import ConfigError, MediaFileError
from cloudlink.media.file_source import open_source
from cloudlink.media.frame import AudioFrame
from cloudlink.media.sink import AvFileSink, CallbackSink, MemorySink, WavSink, open_sink
from cloudlink.media.synthetic import NoiseSource
from cloudlink.media.wav import read_wav


def _noise(rate_hz: int = 16000, channels: int = 1) -> list[AudioFrame]:
    source = NoiseSource(sample_rate_hz=rate_hz, channels=channels, duration_s=0.2, seed=1)
    return list(source)


def test_memory_sink_keeps_every_sample_in_order() -> None:
    frames = _noise()
    sink = MemorySink(sample_rate_hz=16000)
    assert sink.samples().shape == (0,)
    for frame in frames:
        sink.write(frame)
    np.testing.assert_array_equal(sink.samples(), np.concatenate([f.samples for f in frames]))


def test_callback_sink_hands_over_each_frame() -> None:
    seen: list[int] = []
    with CallbackSink(lambda f: seen.append(f.timestamp_samples), sample_rate_hz=16000) as sink:
        for frame in _noise():
            sink.write(frame)
    assert seen == [160 * i for i in range(20)]


@pytest.mark.parametrize("channels", [1, 2])
def test_wav_sink_writes_a_readable_file(tmp_path: Path, channels: int) -> None:
    frames = _noise(48000, channels)
    with WavSink(tmp_path / "o.wav", sample_rate_hz=48000, channels=channels) as sink:
        for frame in frames:
            sink.write(frame)
    samples, rate_hz = read_wav(tmp_path / "o.wav")
    assert rate_hz == 48000
    np.testing.assert_array_equal(samples, np.concatenate([f.samples for f in frames]))


def test_av_sink_writes_flac_that_reads_back_exactly(tmp_path: Path) -> None:
    frames = _noise()
    with open_sink(tmp_path / "o.flac", sample_rate_hz=16000) as sink:
        assert isinstance(sink, AvFileSink)
        for frame in frames:
            sink.write(frame)
    back = np.concatenate([f.samples for f in open_source(tmp_path / "o.flac")])
    np.testing.assert_array_equal(back[:3200], np.concatenate([f.samples for f in frames]))


def test_av_sink_writes_lossy_opus_in_ogg(tmp_path: Path) -> None:
    with AvFileSink(tmp_path / "o.ogg", sample_rate_hz=48000, codec="libopus") as sink:
        for frame in _noise(48000):
            sink.write(frame)
    source = open_source(tmp_path / "o.ogg")
    assert source.sample_rate_hz == 48000
    assert sum(1 for _ in source) >= 15


def test_a_sink_takes_only_its_own_format() -> None:
    sink = MemorySink(sample_rate_hz=16000)
    with pytest.raises(ConfigError, match="16000 Hz x 1"):
        sink.write(_noise(48000)[0])
    with pytest.raises(ConfigError):
        sink.write(_noise(16000, 2)[0])


def test_a_closed_sink_refuses_frames(tmp_path: Path) -> None:
    sink = WavSink(tmp_path / "o.wav", sample_rate_hz=16000)
    sink.close()
    sink.close()  # closing twice is harmless
    with pytest.raises(ConfigError, match="closed"):
        sink.write(_noise()[0])


def test_unwritable_paths_are_media_file_errors(tmp_path: Path) -> None:
    with pytest.raises(MediaFileError):
        WavSink(tmp_path / "no" / "o.wav", sample_rate_hz=16000)
    with pytest.raises(MediaFileError):
        AvFileSink(tmp_path / "no" / "o.ogg", sample_rate_hz=16000)


def test_unknown_container_or_codec_is_a_media_file_error(tmp_path: Path) -> None:
    with pytest.raises(MediaFileError):
        AvFileSink(tmp_path / "o.nosuchformat", sample_rate_hz=16000)
    with pytest.raises(MediaFileError):
        AvFileSink(tmp_path / "o.ogg", sample_rate_hz=16000, codec="nosuchcodec")
    with pytest.raises(MediaFileError):
        AvFileSink(tmp_path / "o.mkv", sample_rate_hz=16000, codec="libvpx")
