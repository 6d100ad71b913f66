"""Video sources and sinks: the test pattern and its spec, file round trips
through WebM (VP8) and MP4, the X11 screen under a private Xvfb, V4L2
cameras (or the clear error where there is none), and the sinks' bad uses."""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest

from cloudlink.errors import ConfigError, MediaFileError
from cloudlink.media.av_video_source import (
    AvVideoSource,
    CameraSource,
    ScreenSource,
    open_video_source,
)
from cloudlink.media.test_pattern import read_test_pattern
from cloudlink.media.video_frame import VideoFrame, check_i420, psnr_db
from cloudlink.media.video_sink import (
    AvVideoFileSink,
    CallbackVideoSink,
    MemoryVideoSink,
    video_codec_for,
)
from cloudlink.media.video_source import PatternSource, parse_pattern_spec
from cloudlink.media.wav import write_wav

# --- the test pattern --------------------------------------------------------------


def test_pattern_source_stamps_each_frame_with_its_number_and_capture_time() -> None:
    source = PatternSource(width_px=320, height_px=240, frame_rate_fps=25.0, duration_s=0.4)
    frames = list(source)
    assert len(frames) == 10
    assert [f.time_ms for f in frames] == [40.0 * i for i in range(10)]
    for index, frame in enumerate(frames):
        assert check_i420(frame.pixels) == (320, 240)
        stamp = read_test_pattern(frame.pixels)
        assert stamp is not None
        assert (stamp.frame_number, stamp.send_time_ms) == (index, 40 * index)


@pytest.mark.parametrize(
    ("spec", "size", "fps"),
    [
        ("pattern:1280x720@30", (1280, 720), 30.0),
        ("pattern:640x360", (640, 360), 30.0),
        ("pattern:320x240@12.5", (320, 240), 12.5),
    ],
)
def test_pattern_specs(spec: str, size: tuple[int, int], fps: float) -> None:
    source = parse_pattern_spec(spec, duration_s=2.0)
    assert (source.width_px, source.height_px) == size
    assert source.frame_rate_fps == fps and source.frame_count == round(2 * fps)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("pattern:1280", "WIDTHxHEIGHT"),
        ("pattern:axb", "WIDTHxHEIGHT"),
        ("pattern:641x360", "even"),
        ("pattern:640x360@500", "frame_rate_fps"),
        ("pattern:8000x8000", "at most"),
    ],
)
def test_bad_pattern_specs_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_pattern_spec(spec)


# --- files -------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".webm", ".mp4"])
def test_file_sink_and_file_source_round_trip(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"clip{suffix}"
    source = PatternSource(width_px=640, height_px=360, duration_s=0.5)
    sent = list(source)
    with AvVideoFileSink(path, width_px=640, height_px=360, bitrate_bps=3_000_000) as sink:
        for frame in sent:
            sink.write(frame)
    assert sink.frames_written == 15
    with av.open(str(path)) as container:
        codec = container.streams.video[0].codec_context.name
    expected = {"libvpx": "vp8", "libx264": "h264", "libopenh264": "h264", "mpeg4": "mpeg4"}
    assert codec == expected[video_codec_for(path)]
    assert codec == "vp8" or suffix == ".mp4"

    read = AvVideoSource(path)
    assert (read.width_px, read.height_px) == (640, 360)
    frames = list(read)
    assert len(frames) == len(sent)
    # Each picture comes back at its time, carrying its own stamp.
    for index, frame in enumerate(frames):
        assert frame.time_ms == pytest.approx(sent[index].time_ms, abs=1.0)
        stamp = read_test_pattern(frame.pixels)
        assert stamp is not None and stamp.frame_number == index
        assert psnr_db(sent[index].pixels, frame.pixels) > 30.0


def test_file_sink_keeps_the_shown_times_so_a_freeze_stays_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "frozen.webm"
    frames = list(PatternSource(width_px=320, height_px=240, duration_s=0.2))
    times = [0.0, 33.0, 66.0, 400.0, 433.0, 466.0]
    with AvVideoFileSink(path, width_px=320, height_px=240) as sink:
        for frame, time_ms in zip(frames, times, strict=True):
            sink.write(VideoFrame(frame.pixels, time_ms))
    assert [round(f.time_ms) for f in AvVideoSource(path)] == [round(t) for t in times]


def test_file_source_cuts_at_the_duration_and_scales_other_sizes(tmp_path: Path) -> None:
    path = tmp_path / "clip.webm"
    with AvVideoFileSink(path, width_px=320, height_px=240) as sink:
        for frame in PatternSource(width_px=640, height_px=360, duration_s=1.0):
            sink.write(frame)
    frames = list(AvVideoSource(path, duration_s=0.5))
    assert len(frames) == 15
    assert {(f.width_px, f.height_px) for f in frames} == {(320, 240)}


def test_missing_and_non_video_files_raise_media_file_error(tmp_path: Path) -> None:
    with pytest.raises(MediaFileError, match="no such file"):
        open_video_source(str(tmp_path / "absent.webm"))
    with pytest.raises(MediaFileError, match="cannot open"):
        AvVideoSource(tmp_path / "absent.webm")
    write_wav(tmp_path / "tone.wav", np.zeros(1600, np.int16), 16000)
    with pytest.raises(MediaFileError, match="holds no video"):
        open_video_source(str(tmp_path / "tone.wav"))
    (tmp_path / "junk.mp4").write_bytes(b"\0" * 1000)
    with pytest.raises(MediaFileError, match=r"junk\.mp4"):
        open_video_source(str(tmp_path / "junk.mp4"))


def test_from_av_crops_odd_sizes_and_converts_pixel_formats() -> None:
    rgb = np.full((121, 161, 3), 200, np.uint8)
    frame = VideoFrame.from_av(av.VideoFrame.from_ndarray(rgb, format="rgb24"), time_ms=5.0)
    assert (frame.width_px, frame.height_px, frame.time_ms) == (160, 120, 5.0)
    assert abs(int(frame.pixels[:120].mean()) - 188) <= 3  # BT.601 video-range luma of 200


# --- the screen, under a private X server ------------------------------------------


def _wait_for_x_server(display: str, timeout_s: float = 10.0) -> None:
    """Waits until x11grab can open the display: Xvfb reports its number
    when it listens, which can be a moment before a capture succeeds."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            ScreenSource(display=display, duration_s=0.1)
            return
        except MediaFileError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)


@pytest.fixture
def xvfb_display() -> Iterator[str]:
    """Starts Xvfb on a display it picks free (-displayfd), with a white root
    window (-wr) at 320x240, and stops it afterwards."""
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is missing: scripts/bootstrap.sh test installs it (package xvfb)")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        [
            "Xvfb",
            "-displayfd",
            str(write_end),
            "-screen",
            "0",
            "320x240x24",
            "-nolisten",
            "tcp",
            "-wr",
            # No server reset when the last client leaves: a reset refuses
            # the connections of the next capture for a moment.
            "-noreset",
        ],
        pass_fds=(write_end,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        number = os.read(read_end, 64).decode().strip()
        assert number.isdigit(), "Xvfb did not report a display"
        _wait_for_x_server(f":{number}")
        yield f":{number}"
    finally:
        os.close(read_end)
        server.terminate()
        server.wait(timeout=10)


def test_screen_capture_reads_the_x11_screen(xvfb_display: str) -> None:
    source = ScreenSource(display=xvfb_display, frame_rate_fps=10.0, duration_s=0.3)
    assert (source.width_px, source.height_px) == (320, 240)
    frames = list(source)
    assert 2 <= len(frames) <= 4
    assert all(b.time_ms > a.time_ms for a, b in itertools.pairwise(frames))
    # The root window is white: video-range luma 235, neutral chroma.
    luma = frames[0].pixels[:240]
    assert int(luma.min()) >= 230 and abs(int(frames[0].pixels[240:].mean()) - 128) <= 2


def test_screen_capture_of_a_region(xvfb_display: str) -> None:
    source = ScreenSource(
        display=xvfb_display, width_px=160, height_px=120, x_px=40, y_px=20, duration_s=0.1
    )
    frame = next(iter(source))
    assert (frame.width_px, frame.height_px) == (160, 120)


def test_screen_capture_of_a_display_that_does_not_exist_says_so() -> None:
    with pytest.raises(MediaFileError, match=":987"):
        ScreenSource(display=":987", duration_s=0.1)


# --- cameras -----------------------------------------------------------------------


def test_camera_at_a_path_with_no_device_raises_a_clear_error(tmp_path: Path) -> None:
    device = tmp_path / "video0"
    with pytest.raises(MediaFileError, match="no such camera") as raised:
        CameraSource(device)
    assert str(device) in str(raised.value) and "V4L2 devices" in str(raised.value)


def test_the_default_camera_is_read_or_reported_missing() -> None:
    # On a machine with a camera this reads from it; on one without (CI),
    # the error names the device and that there is none.
    if not glob.glob("/dev/video*"):
        with pytest.raises(MediaFileError, match=r"/dev/video0: no such camera.*none"):
            CameraSource(duration_s=0.2)
        return
    frame = next(iter(CameraSource(duration_s=0.5)))
    assert frame.width_px >= 2 and frame.height_px >= 2


# --- sinks -------------------------------------------------------------------------


def test_memory_and_callback_sinks_take_frames_in_order() -> None:
    frames = list(PatternSource(width_px=320, height_px=240, duration_s=0.1))
    seen: list[float] = []
    memory = MemoryVideoSink()
    with CallbackVideoSink(lambda f: seen.append(f.time_ms)) as callback:
        for frame in frames:
            callback.write(frame)
            memory.write(frame)
    assert seen == [f.time_ms for f in frames] and memory.frames == frames
    with pytest.raises(ConfigError, match="closed"):
        callback.write(frames[0])


def test_file_sink_refuses_unknown_suffixes_and_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(MediaFileError, match=r"\.xyz"):
        AvVideoFileSink(tmp_path / "out.xyz", width_px=320, height_px=240)
    with pytest.raises(MediaFileError, match="cannot"):
        AvVideoFileSink(tmp_path / "missing" / "out.webm", width_px=320, height_px=240)
    with pytest.raises(ConfigError, match="even"):
        AvVideoFileSink(tmp_path / "out.webm", width_px=321, height_px=240)


def test_frames_must_be_i420() -> None:
    with pytest.raises(ConfigError, match="uint8"):
        VideoFrame(np.zeros((360, 320), np.int16), 0.0)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="even"):
        VideoFrame(np.zeros((361, 320), np.uint8), 0.0)
    with pytest.raises(ConfigError, match="contiguous"):
        VideoFrame(np.zeros((360, 640), np.uint8)[:, ::2], 0.0)
