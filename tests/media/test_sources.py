"""Sources: WAV, any file PyAV reads, synthetic signals and the packaged
speech, all as 10 ms frames at the rate asked for."""

from __future__ import annotations

import asyncio
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

from cloudlink.errors import ConfigError, MediaFileError
from cloudlink.media.file_source import AvFileSource, WavSource, open_source
from cloudlink.media.frame import AudioFrame
from cloudlink.media.synthetic import (
    SPEAKERS,
    NoiseSource,
    SilenceSource,
    ToneSource,
    speech_path,
    speech_source,
)
from cloudlink.media.wav import write_wav


def _joined(frames: list[AudioFrame]) -> npt.NDArray[np.int16]:
    return np.concatenate([frame.samples for frame in frames])


def _check_frames(frames: list[AudioFrame], rate_hz: int) -> None:
    for index, frame in enumerate(frames):
        assert frame.sample_rate_hz == rate_hz
        assert frame.timestamp_samples == index * rate_hz // 100


def _write_flac(path: Path, samples: npt.NDArray[np.int16], rate_hz: int) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("flac", rate=rate_hz)
        assert isinstance(stream, av.audio.stream.AudioStream)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = rate_hz
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def test_wav_source_cuts_the_file_into_frames_and_pads_the_last(tmp_path: Path) -> None:
    samples = np.arange(1000, dtype=np.int16)
    write_wav(tmp_path / "a.wav", samples, 16000)
    frames = list(WavSource(tmp_path / "a.wav"))
    assert len(frames) == 7  # 1000 samples = 6.25 frames of 160
    _check_frames(frames, 16000)
    joined = _joined(frames)
    np.testing.assert_array_equal(joined[:1000], samples)
    assert not joined[1000:].any()


def test_wav_source_down_mixes_stereo_on_request(tmp_path: Path) -> None:
    left = np.full(480, 1000, np.int16)
    right = np.full(480, 3000, np.int16)
    write_wav(tmp_path / "s.wav", np.stack([left, right], axis=1), 48000)
    assert next(iter(WavSource(tmp_path / "s.wav"))).channels == 2
    mono = _joined(list(WavSource(tmp_path / "s.wav", channels=1)))
    assert mono.ndim == 1
    assert (mono == 2000).all()


def test_wav_source_async_iteration_matches_sync(tmp_path: Path) -> None:
    write_wav(tmp_path / "a.wav", np.arange(800, dtype=np.int16), 8000)
    source = WavSource(tmp_path / "a.wav")

    async def collect() -> list[AudioFrame]:
        return [frame async for frame in source]

    frames = asyncio.run(collect())
    np.testing.assert_array_equal(_joined(frames), _joined(list(source)))


@pytest.mark.parametrize("content", [b"", b"RIFF\x00\x00", b"plain text, no audio here"])
def test_bad_wav_files_are_media_file_errors(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(MediaFileError):
        WavSource(path)
    with pytest.raises(MediaFileError):
        open_source(path)


def test_missing_file_is_a_media_file_error(tmp_path: Path) -> None:
    with pytest.raises(MediaFileError):
        open_source(tmp_path / "absent.wav")
    with pytest.raises(MediaFileError):
        AvFileSource(tmp_path / "absent.ogg")


def test_av_source_decodes_flac_at_its_own_rate(tmp_path: Path) -> None:
    samples = (np.sin(np.arange(4800) / 7.0) * 8000).astype(np.int16)
    _write_flac(tmp_path / "a.flac", samples, 48000)
    source = open_source(tmp_path / "a.flac")
    assert isinstance(source, AvFileSource)
    frames = list(source)
    _check_frames(frames, 48000)
    np.testing.assert_array_equal(_joined(frames)[:4800], samples)  # FLAC is lossless


def test_av_source_refuses_files_without_audio(tmp_path: Path) -> None:
    path = tmp_path / "garbage.mp3"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(MediaFileError):
        AvFileSource(path)


def test_av_source_resamples_to_the_rate_asked_for(tmp_path: Path) -> None:
    tone = ToneSource(frequency_hz=440.0, sample_rate_hz=44100, duration_s=0.5)
    _write_flac(tmp_path / "t.flac", _joined(list(tone))[:22050], 44100)
    frames = list(AvFileSource(tmp_path / "t.flac", sample_rate_hz=16000))
    _check_frames(frames, 16000)
    out = _joined(frames).astype(np.float64)
    assert abs(len(out) - 8000) <= 160
    # The tone survives: its frequency is where the spectrum peaks.
    spectrum = np.abs(np.fft.rfft(out[1000:7000]))
    assert np.argmax(spectrum) * 16000 / 6000 == pytest.approx(440.0, abs=5.0)


def test_speech_source_resamples_without_delay() -> None:
    native = _joined(list(speech_source("bob", sample_rate_hz=16000))).astype(np.float64)
    up = _joined(list(speech_source("bob", sample_rate_hz=48000))).astype(np.float64)
    # Every third sample of the 48 kHz version is close to the 16 kHz one.
    down = up[::3][: len(native)]
    lag = int(np.argmax(np.correlate(down[8000:24000], native[8000:24000], "full")))
    assert lag - (16000 - 1) == 0


def test_tone_has_the_asked_level_and_frequency() -> None:
    frames = list(
        ToneSource(frequency_hz=1000.0, level_dbfs=-6.0, sample_rate_hz=8000, duration_s=0.1)
    )
    assert len(frames) == 10
    samples = _joined(frames)
    assert samples.max() == pytest.approx(32767 * 10 ** (-6 / 20), abs=2)
    # 1 kHz at 8 kHz: the waveform repeats every 8 samples.
    np.testing.assert_array_equal(samples[:8], samples[8:16])


def test_noise_is_reproducible_and_at_its_level() -> None:
    source = NoiseSource(level_dbfs=-20.0, seed=4, sample_rate_hz=16000, channels=2, duration_s=1.0)
    first, second = _joined(list(source)), _joined(list(source))
    np.testing.assert_array_equal(first, second)
    assert first.shape == (16000, 2)
    rms = np.sqrt(np.mean(first[:, 0].astype(np.float64) ** 2))
    assert rms == pytest.approx(32767 * 0.1, rel=0.05)


def test_endless_silence_keeps_going() -> None:
    source = iter(SilenceSource(sample_rate_hz=48000))
    frames = [next(source) for _ in range(250)]
    assert frames[-1].timestamp_samples == 249 * 480
    assert not any(frame.samples.any() for frame in frames)


@pytest.mark.parametrize("name", SPEAKERS)
def test_packaged_speech_is_there(name: str) -> None:
    assert speech_path(name).is_file()
    frames = list(speech_source(name))
    assert len(frames) > 500  # each file is over 5 s
    assert np.abs(_joined(frames)).max() > 3000


@pytest.mark.parametrize(
    "make",
    [
        lambda: ToneSource(frequency_hz=30000.0, sample_rate_hz=48000),
        lambda: ToneSource(level_dbfs=3.0),
        lambda: NoiseSource(level_dbfs=1.0),
        lambda: SilenceSource(duration_s=-1.0),
        lambda: SilenceSource(sample_rate_hz=22050),
        lambda: SilenceSource(channels=3),
        lambda: speech_path("mallory"),
    ],
)
def test_bad_options_are_config_errors(make: object) -> None:
    with pytest.raises(ConfigError):
        make()  # type: ignore[operator]
