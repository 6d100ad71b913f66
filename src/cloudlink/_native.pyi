# Type stubs for the native engine (native/bindings). Keep in step with the
# bind_<subsystem>.cc files: tests/native/test_stubs.py checks the names.

from typing import Any, Literal

import numpy as np
import numpy.typing as npt

OPUS_VERSION: str

# --- opus (bind_opus.cc) ---

class OpusEncoder:
    def __init__(
        self,
        *,
        sample_rate_hz: int = 48000,
        channels: int = 1,
        application: Literal["voip", "audio", "lowdelay"] = "voip",
        frame_ms: float = 20.0,
        bitrate_bps: int = 32000,
        complexity: int = 9,
        fec: bool = True,
        expected_loss_pct: int = 10,
        dtx: bool = False,
    ) -> None: ...
    def encode(self, pcm: npt.NDArray[np.int16] | npt.NDArray[np.float32]) -> bytes: ...
    @property
    def sample_rate_hz(self) -> int: ...
    @property
    def channels(self) -> int: ...
    @property
    def frame_ms(self) -> float: ...
    @property
    def frame_samples(self) -> int: ...
    @property
    def lookahead_samples(self) -> int: ...
    @property
    def in_dtx(self) -> bool: ...
    bitrate_bps: int
    complexity: int
    fec: bool
    expected_loss_pct: int
    dtx: bool

class OpusDecoder:
    def __init__(self, *, sample_rate_hz: int = 48000, channels: int = 1) -> None: ...
    def decode(
        self, packet: bytes | bytearray | memoryview, *, dtype: Any = ...
    ) -> npt.NDArray[Any]: ...
    def decode_fec(
        self, next_packet: bytes | bytearray | memoryview, frame_samples: int, *, dtype: Any = ...
    ) -> npt.NDArray[Any]: ...
    def conceal(self, frame_samples: int, *, dtype: Any = ...) -> npt.NDArray[Any]: ...
    def packet_samples(self, packet: bytes | bytearray | memoryview) -> int: ...
    def reset(self) -> None: ...
    @property
    def sample_rate_hz(self) -> int: ...
    @property
    def channels(self) -> int: ...

# --- jitter buffer (bind_jitter_buffer.cc) ---
# (this subsystem's classes go here)

# --- echo canceller (bind_echo_canceller.cc) ---

class EchoCanceller:
    def __init__(self, *, sample_rate_hz: int = 16000, tail_ms: int = 250) -> None: ...
    def process_render(self, far: npt.NDArray[np.int16] | npt.NDArray[np.float32]) -> None: ...
    def process_capture(
        self, near: npt.NDArray[np.int16] | npt.NDArray[np.float32]
    ) -> npt.NDArray[Any]: ...
    def stats(self) -> dict[str, float | int | bool | None]: ...
    def reset(self) -> None: ...
    @property
    def frame_samples(self) -> int: ...
    @property
    def sample_rate_hz(self) -> int: ...
    @property
    def tail_ms(self) -> int: ...
    @property
    def erle_db(self) -> float: ...
    @property
    def delay_ms(self) -> float | None: ...
    @property
    def double_talk(self) -> bool: ...

# --- resampler (bind_resampler.cc) ---
# (this subsystem's classes go here)

# --- level meter and voice activity (bind_level_meter.cc) ---
# (this subsystem's classes go here)

# --- time stretcher (bind_time_stretcher.cc) ---
# (this subsystem's classes go here)

# --- end ---
