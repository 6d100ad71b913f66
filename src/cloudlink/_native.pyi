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

class JitterBuffer:
    def __init__(
        self,
        *,
        sample_rate_hz: int = 48000,
        channels: int = 1,
        payload_type: int = 111,
        red_payload_type: int | None = None,
        min_delay_ms: float = 0.0,
        max_delay_ms: float = 2000.0,
    ) -> None: ...
    def insert(
        self,
        payload: bytes | bytearray | memoryview,
        *,
        sequence_number: int,
        timestamp: int,
        arrival_time_ms: float,
        payload_type: int | None = None,
    ) -> bool: ...
    def pull(self, now_ms: float) -> npt.NDArray[np.int16]: ...
    def stats(self) -> dict[str, int | float]: ...
    def reset(self) -> None: ...
    @property
    def target_delay_ms(self) -> float: ...
    @property
    def current_delay_ms(self) -> float: ...
    @property
    def playout_timestamp(self) -> int | None: ...
    @property
    def frame_samples(self) -> int: ...
    @property
    def sample_rate_hz(self) -> int: ...
    @property
    def channels(self) -> int: ...

def red_pack(
    primary: bytes | bytearray | memoryview,
    *,
    payload_type: int,
    redundant: list[tuple[bytes, int, int]] | tuple[tuple[bytes, int, int], ...] = (),
) -> bytes: ...
def red_unpack(payload: bytes | bytearray | memoryview) -> list[tuple[int, int, bytes]]: ...

# --- echo canceller (bind_echo_canceller.cc) ---
# (this subsystem's classes go here)

# --- resampler (bind_resampler.cc) ---
# (this subsystem's classes go here)

# --- level meter and voice activity (bind_level_meter.cc) ---
# (this subsystem's classes go here)

# --- time stretcher (bind_time_stretcher.cc) ---
# (this subsystem's classes go here)

# --- end ---
