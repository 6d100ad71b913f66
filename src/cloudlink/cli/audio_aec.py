"""``cloudlink audio aec``: cancels the echo of a far-end file in a mic file.

Both files are 16-bit mono WAV at one rate among 16, 32 and 48 kHz. The mic
file is processed in 10 ms frames beside the far file (padded with silence
when shorter); the output is the near end, as long as the mic file.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from cloudlink._native import EchoCanceller
from cloudlink.errors import MediaFileError
from cloudlink.media.wav import read_wav, write_wav

__all__ = ["cancel_echo", "register"]

_RATES_HZ = (16000, 32000, 48000)


def register(subparsers: Any) -> None:
    """Adds the ``aec`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "aec", help="cancel the echo of FAR in MIC", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--far", required=True, type=Path, help="what was played (WAV)")
    parser.add_argument("--mic", required=True, type=Path, help="what the microphone heard (WAV)")
    parser.add_argument("-o", "--output", required=True, type=Path, help="near end out (WAV)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(run=_run)


def _load_mono(path: Path, role: str) -> tuple[npt.NDArray[np.int16], int]:
    samples, rate_hz = read_wav(path)
    if samples.ndim != 1:
        raise MediaFileError(
            f"{path}: the {role} file must be mono, got {samples.shape[1]} channels"
        )
    if rate_hz not in _RATES_HZ:
        raise MediaFileError(f"{path}: sample rate must be 16000, 32000 or 48000 Hz, got {rate_hz}")
    return samples, rate_hz


def cancel_echo(
    far: npt.NDArray[np.int16], mic: npt.NDArray[np.int16], *, sample_rate_hz: int
) -> tuple[npt.NDArray[np.int16], dict[str, Any]]:
    """Runs the echo canceller over whole signals.

    Returns the near end (as long as ``mic``) and the figures: ``erle_db``
    and ``delay_ms`` estimates at the end, ``us_per_frame`` of processing.
    """
    canceller = EchoCanceller(sample_rate_hz=sample_rate_hz)
    frame = canceller.frame_samples
    frames = -(-len(mic) // frame)
    padded_mic = np.zeros(frames * frame, dtype=np.int16)
    padded_mic[: len(mic)] = mic
    padded_far = np.zeros(frames * frame, dtype=np.int16)
    padded_far[: min(len(far), len(padded_far))] = far[: len(padded_far)]
    out = np.empty_like(padded_mic)
    start = time.perf_counter()
    for i in range(frames):
        s = slice(i * frame, (i + 1) * frame)
        canceller.process_render(padded_far[s])
        out[s] = canceller.process_capture(padded_mic[s])
    elapsed_s = time.perf_counter() - start
    figures = {
        "erle_db": round(canceller.erle_db, 2),
        "delay_ms": canceller.delay_ms,
        "double_talk": canceller.double_talk,
        "us_per_frame": round(elapsed_s / max(frames, 1) * 1e6, 1),
    }
    return out[: len(mic)], figures


def _run(args: argparse.Namespace) -> int:
    far, far_rate_hz = _load_mono(args.far, "far")
    mic, mic_rate_hz = _load_mono(args.mic, "mic")
    if far_rate_hz != mic_rate_hz:
        raise MediaFileError(
            f"far and mic must share a sample rate, got {far_rate_hz} and {mic_rate_hz} Hz"
        )
    out, figures = cancel_echo(far, mic, sample_rate_hz=mic_rate_hz)
    write_wav(args.output, out, mic_rate_hz)
    if args.json:
        print(json.dumps(figures))
    return 0
