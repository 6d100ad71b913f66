"""Codec benchmark: CPU per 20 ms Opus frame, ours beside raw libopus.

Workload: 11 s of espeak-ng speech (alice.wav, 16 kHz) upsampled to 48 kHz
with our resampler; 48 kHz mono voip, 32 kbit/s, complexity 9, in-band FEC
with 10% expected loss (RFC 6716), encoded and decoded frame by frame.

Beside ours, in the same process and on the same frames: raw libopus timed
in C (bench/opus_raw.c, compiled now with the system compiler and
`pkg-config --cflags --libs opus`), the same calls made frame by frame
through ctypes, and `opuslib` 3.0.1. Every implementation gets a fresh
encoder (decoder) per round, and the rounds go through the stream in blocks
of 0.5 s, each block timed for all implementations one after another, in a
rotating order: on a machine shared with other work, the implementations
then see the same load, and the ratio of round totals is a fair comparison.
Our decoder runs twice: `ours` makes a new array per frame (the default
call), `ours_out` decodes into one array the caller keeps (`out=`), as the
raw C and ctypes calls do (opuslib returns new bytes each call).
Times are thread CPU time. Target: our overhead over raw libopus at most 5%
(the median of the per-round ratios), judged like for like: the encoder,
and the decoder into the caller's array; the new-array figure is printed
beside it.

    .venv/bin/python bench/bench_codec.py [--quick] [--rounds N]
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from cloudlink import _native
from cloudlink.media.wav import read_wav

HERE = Path(__file__).resolve().parent
SPEECH = HERE.parent / "src" / "cloudlink" / "media" / "speech" / "alice.wav"

SAMPLE_RATE_HZ = 48000
FRAME_SAMPLES = 960  # 20 ms at 48 kHz
BLOCK_FRAMES = 25  # 0.5 s: the unit of interleaving
BITRATE_BPS = 32000
COMPLEXITY = 9
EXPECTED_LOSS_PCT = 10
TARGET_OVERHEAD_PCT = 5.0

# libopus request codes and values (opus_defines.h, libopus 1.3).
OPUS_APPLICATION_VOIP = 2048
OPUS_SET_BITRATE = 4002
OPUS_SET_COMPLEXITY = 4010
OPUS_SET_INBAND_FEC = 4012
OPUS_SET_PACKET_LOSS_PERC = 4014
OPUS_SET_DTX = 4016
OPUS_SET_SIGNAL = 4024
OPUS_SIGNAL_VOICE = 3001
MAX_PACKET_BYTES = 4000

Block = npt.NDArray[np.int16]  # (frames, FRAME_SAMPLES), C-contiguous
Packets = list[bytes]
# Encodes one block, returns (thread CPU ns, packets); decodes one block of
# packets, returns thread CPU ns.
EncodeBlock = Callable[[Block], tuple[int, Packets]]
DecodeBlock = Callable[[Packets], int]


def load_blocks() -> list[Block]:
    """The workload: the speech at 48 kHz in 20 ms frames, grouped in blocks."""
    speech_16k, rate_hz = read_wav(SPEECH)
    speech = _native.resample(speech_16k, input_rate_hz=rate_hz, output_rate_hz=SAMPLE_RATE_HZ)
    frames = np.ascontiguousarray(speech[: len(speech) // FRAME_SAMPLES * FRAME_SAMPLES])
    frames = frames.reshape(-1, FRAME_SAMPLES)
    return [frames[i : i + BLOCK_FRAMES] for i in range(0, len(frames), BLOCK_FRAMES)]


# --- ours -----------------------------------------------------------------------


def ours_encoder() -> EncodeBlock:
    encode = _native.OpusEncoder(
        sample_rate_hz=SAMPLE_RATE_HZ,
        bitrate_bps=BITRATE_BPS,
        complexity=COMPLEXITY,
        fec=True,
        expected_loss_pct=EXPECTED_LOSS_PCT,
    ).encode

    def run(block: Block) -> tuple[int, Packets]:
        frames = list(block)  # the caller's frames, as numpy arrays
        start = time.thread_time_ns()
        packets = [encode(frame) for frame in frames]
        return time.thread_time_ns() - start, packets

    return run


def ours_decoder() -> DecodeBlock:
    decode = _native.OpusDecoder(sample_rate_hz=SAMPLE_RATE_HZ).decode

    def run(packets: Packets) -> int:
        start = time.thread_time_ns()
        for packet in packets:
            decode(packet)
        return time.thread_time_ns() - start

    return run


def ours_into_decoder() -> DecodeBlock:
    decode = _native.OpusDecoder(sample_rate_hz=SAMPLE_RATE_HZ).decode
    pcm = np.empty(FRAME_SAMPLES, np.int16)

    def run(packets: Packets) -> int:
        start = time.thread_time_ns()
        for packet in packets:
            decode(packet, out=pcm)
        return time.thread_time_ns() - start

    return run


# --- raw libopus, timed in C --------------------------------------------------


class RawC:
    """bench/opus_raw.c, built into a temporary folder and loaded in process."""

    def __init__(self, workdir: Path) -> None:
        library = workdir / "libopus_raw.so"
        compiler = os.environ.get("CC") or shutil.which("cc") or "gcc"
        pkg_config = ["pkg-config", "--cflags", "--libs", "opus"]
        flags = shlex.split(
            subprocess.run(pkg_config, check=True, capture_output=True, text=True).stdout
        )
        source = HERE / "opus_raw.c"
        command = [compiler, "-O2", "-shared", "-fPIC", "-o", str(library), str(source), *flags]
        subprocess.run(command, check=True)
        self.build_command = " ".join(command)
        lib = ctypes.CDLL(str(library))
        for name in ("raw_encoder_new", "raw_decoder_new"):
            getattr(lib, name).restype = ctypes.c_void_p
        for name in ("raw_encoder_free", "raw_decoder_free"):
            getattr(lib, name).argtypes = [ctypes.c_void_p]
        lib.raw_encode.restype = ctypes.c_longlong
        lib.raw_encode.argtypes = (
            [ctypes.c_void_p] + [ctypes.c_void_p, ctypes.c_int] + [ctypes.c_void_p] * 2
        )
        lib.raw_decode.restype = ctypes.c_longlong
        lib.raw_decode.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
        lib.raw_decode.argtypes += [ctypes.c_void_p]
        self.lib = lib
        self.states: list[tuple[Callable[[int], None], int]] = []

    def _keep(self, free: Callable[[int], None], state: int) -> int:
        if not state:
            raise MemoryError("libopus could not create its state")
        self.states.append((free, state))
        return state

    def close(self) -> None:
        for free, state in self.states:
            free(state)
        self.states.clear()

    def encoder(self) -> EncodeBlock:
        state = self._keep(self.lib.raw_encoder_free, self.lib.raw_encoder_new())
        out = np.empty(BLOCK_FRAMES * MAX_PACKET_BYTES, np.uint8)
        lengths = np.empty(BLOCK_FRAMES, np.intc)

        def run(block: Block) -> tuple[int, Packets]:
            n = len(block)
            elapsed = self.lib.raw_encode(
                state, block.ctypes.data, n, out.ctypes.data, lengths.ctypes.data
            )
            if elapsed < 0:
                raise RuntimeError("opus_encode failed in opus_raw.c")
            raw = out.tobytes()
            packets = [
                raw[i * MAX_PACKET_BYTES : i * MAX_PACKET_BYTES + lengths[i]] for i in range(n)
            ]
            return elapsed, packets

        return run

    def decoder(self) -> DecodeBlock:
        state = self._keep(self.lib.raw_decoder_free, self.lib.raw_decoder_new())
        pcm = np.empty(BLOCK_FRAMES * FRAME_SAMPLES, np.int16)

        def run(packets: Packets) -> int:
            lengths = np.array([len(p) for p in packets], np.intc)
            elapsed = self.lib.raw_decode(
                state, b"".join(packets), lengths.ctypes.data, len(packets), pcm.ctypes.data
            )
            if elapsed < 0:
                raise RuntimeError("opus_decode failed in opus_raw.c")
            return int(elapsed)

        return run


# --- raw libopus through ctypes -----------------------------------------------


class CtypesOpus:
    """The same libopus calls made frame by frame from Python through ctypes,
    the thinnest in-process binding there is."""

    def __init__(self) -> None:
        name = ctypes.util.find_library("opus")
        if name is None:
            raise OSError("libopus not found")
        lib = ctypes.CDLL(name)
        lib.opus_encoder_create.restype = ctypes.c_void_p
        lib.opus_encoder_create.argtypes = [
            ctypes.c_int32,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_void_p,
        ]
        lib.opus_encode.restype = ctypes.c_int32
        lib.opus_encode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
        lib.opus_encode.argtypes += [ctypes.c_void_p, ctypes.c_int32]
        lib.opus_decoder_create.restype = ctypes.c_void_p
        lib.opus_decoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.c_void_p]
        lib.opus_decode.restype = ctypes.c_int
        lib.opus_decode.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32]
        lib.opus_decode.argtypes += [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        for name in ("opus_encoder_destroy", "opus_decoder_destroy"):
            getattr(lib, name).argtypes = [ctypes.c_void_p]
        self.lib = lib
        self.states: list[tuple[Callable[[int], None], int]] = []

    def close(self) -> None:
        for free, state in self.states:
            free(state)
        self.states.clear()

    def encoder(self) -> EncodeBlock:
        lib = self.lib
        error = ctypes.c_int()
        state = lib.opus_encoder_create(
            SAMPLE_RATE_HZ, 1, OPUS_APPLICATION_VOIP, ctypes.byref(error)
        )
        self.states.append((lib.opus_encoder_destroy, state))
        for request, value in (
            (OPUS_SET_BITRATE, BITRATE_BPS),
            (OPUS_SET_COMPLEXITY, COMPLEXITY),
            (OPUS_SET_INBAND_FEC, 1),
            (OPUS_SET_PACKET_LOSS_PERC, EXPECTED_LOSS_PCT),
            (OPUS_SET_DTX, 0),
            (OPUS_SET_SIGNAL, OPUS_SIGNAL_VOICE),
        ):
            lib.opus_encoder_ctl(ctypes.c_void_p(state), ctypes.c_int(request), ctypes.c_int(value))
        buffer = ctypes.create_string_buffer(MAX_PACKET_BYTES)
        encode, string_at = lib.opus_encode, ctypes.string_at

        def run(block: Block) -> tuple[int, Packets]:
            addresses = [frame.ctypes.data for frame in block]
            start = time.thread_time_ns()
            packets = [
                string_at(buffer, encode(state, address, FRAME_SAMPLES, buffer, MAX_PACKET_BYTES))
                for address in addresses
            ]
            return time.thread_time_ns() - start, packets

        return run

    def decoder(self) -> DecodeBlock:
        lib = self.lib
        error = ctypes.c_int()
        state = lib.opus_decoder_create(SAMPLE_RATE_HZ, 1, ctypes.byref(error))
        self.states.append((lib.opus_decoder_destroy, state))
        decode, empty, int16 = lib.opus_decode, np.empty, np.int16

        def run(packets: Packets) -> int:
            start = time.thread_time_ns()
            for packet in packets:
                pcm = empty(FRAME_SAMPLES, int16)
                decode(state, packet, len(packet), pcm.ctypes.data, FRAME_SAMPLES, 0)
            return time.thread_time_ns() - start

        return run


# --- opuslib ------------------------------------------------------------------


def opuslib_encoder() -> EncodeBlock:
    import opuslib
    import opuslib.api.ctl as ctl
    import opuslib.api.encoder as api

    encoder = opuslib.Encoder(SAMPLE_RATE_HZ, 1, "voip")
    encoder.bitrate = BITRATE_BPS
    encoder.complexity = COMPLEXITY
    # The inband_fec setter of opuslib 3.0.1 does not reach libopus: use the
    # low-level ctl, as for the rest, to match our settings exactly.
    for request, value in (
        (ctl.set_inband_fec, 1),
        (ctl.set_packet_loss_perc, EXPECTED_LOSS_PCT),
        (ctl.set_dtx, 0),
        (ctl.set_signal, OPUS_SIGNAL_VOICE),
    ):
        api.encoder_ctl(encoder.encoder_state, request, value)
    encode = encoder.encode

    def run(block: Block) -> tuple[int, Packets]:
        frames = [frame.tobytes() for frame in block]  # opuslib takes bytes
        start = time.thread_time_ns()
        packets = [encode(frame, FRAME_SAMPLES) for frame in frames]
        return time.thread_time_ns() - start, packets

    return run


def opuslib_decoder() -> DecodeBlock:
    import opuslib

    decode = opuslib.Decoder(SAMPLE_RATE_HZ, 1).decode

    def run(packets: Packets) -> int:
        start = time.thread_time_ns()
        for packet in packets:
            decode(packet, FRAME_SAMPLES)
        return time.thread_time_ns() - start

    return run


# --- the run ------------------------------------------------------------------

NAMES = ("ours", "raw_c", "ctypes", "opuslib")
DECODE_NAMES = ("ours", "ours_out", "raw_c", "ctypes", "opuslib")


def interleaved_round(
    makers: dict[str, Callable[[], Any]], work: list[Any], shift: int, is_encode: bool
) -> tuple[dict[str, int], dict[str, Packets]]:
    """One pass over the stream by every implementation, block by block, in a
    rotating order. Returns CPU ns per implementation (and the packets)."""
    runners = {name: make() for name, make in makers.items()}
    totals = dict.fromkeys(makers, 0)
    packets: dict[str, Packets] = {name: [] for name in makers}
    names = list(makers)
    for index, item in enumerate(work):
        turn = (shift + index) % len(names)
        for name in names[turn:] + names[:turn]:
            if is_encode:
                elapsed, out = runners[name](item)
                packets[name].extend(out)
            else:
                elapsed = runners[name](item)
            totals[name] += elapsed
    return totals, packets


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 11")
    parser.add_argument("--rounds", type=int, default=None, help="encoding rounds")
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 11)
    decode_rounds = 5 * rounds  # a decoding round costs a tenth of an encoding one

    blocks = load_blocks()
    frames = sum(len(block) for block in blocks)
    print(
        f"workload: {frames} frames ({frames * 20 / 1000:.1f} s) of alice.wav at 48 kHz, mono "
        f"voip, {BITRATE_BPS // 1000} kbit/s, complexity {COMPLEXITY}, FEC on, "
        f"{EXPECTED_LOSS_PCT}% expected loss; {_native.OPUS_VERSION}; "
        f"{rounds} encoding and {decode_rounds} decoding rounds"
    )

    with tempfile.TemporaryDirectory() as tmp:
        raw = RawC(Path(tmp))
        by_ctypes = CtypesOpus()
        print(f"raw C: {raw.build_command}")
        encoders: dict[str, Callable[[], Any]] = {
            "ours": ours_encoder,
            "raw_c": raw.encoder,
            "ctypes": by_ctypes.encoder,
            "opuslib": opuslib_encoder,
        }
        decoders: dict[str, Callable[[], Any]] = {
            "ours": ours_decoder,
            "ours_out": ours_into_decoder,
            "raw_c": raw.decoder,
            "ctypes": by_ctypes.decoder,
            "opuslib": opuslib_decoder,
        }
        encode_ns: dict[str, list[int]] = {name: [] for name in NAMES}
        decode_ns: dict[str, list[int]] = {name: [] for name in DECODE_NAMES}

        # A warm-up round, which also checks that all four make the very same
        # packets (same library, same settings): they are decoded below.
        _, packets = interleaved_round(encoders, blocks, 0, True)
        same = {name: packets[name] == packets["ours"] for name in NAMES if name != "ours"}
        print("packets identical to ours: " + ", ".join(f"{k} {v}" for k, v in same.items()))
        stream = packets["ours"]
        packet_blocks = [stream[i : i + BLOCK_FRAMES] for i in range(0, len(stream), BLOCK_FRAMES)]

        for index in range(rounds):
            totals, _ = interleaved_round(encoders, blocks, index, True)
            for name, value in totals.items():
                encode_ns[name].append(value)
            raw.close()
            by_ctypes.close()
        for index in range(decode_rounds):
            totals, _ = interleaved_round(decoders, packet_blocks, index, False)
            for name, value in totals.items():
                decode_ns[name].append(value)
            raw.close()
            by_ctypes.close()

    result = report({"encode": encode_ns, "decode": decode_ns}, frames, same)
    print("RESULT " + json.dumps(result))
    return 0


def report(times: dict[str, dict[str, list[int]]], frames: int, same: dict[str, bool]) -> Any:
    """Prints the table and returns the RESULT figures."""
    result: dict[str, Any] = {
        "frames": frames,
        "packets_identical": same,
        "target_overhead_pct": TARGET_OVERHEAD_PCT,
    }
    for op, by_name in times.items():
        best = {name: min(values) / frames / 1000 for name, values in by_name.items()}
        median = {
            name: statistics.median(values) / frames / 1000 for name, values in by_name.items()
        }
        print()
        print(f"{'µs per 20 ms frame':<24}" + "".join(f"{name:>12}" for name in by_name))
        print(f"{op + ' (best round)':<24}" + "".join(f"{best[n]:>12.1f}" for n in by_name))
        print(f"{op + ' (median round)':<24}" + "".join(f"{median[n]:>12.1f}" for n in by_name))
        result[f"{op}_us_best"] = {name: round(value, 2) for name, value in best.items()}
        result[f"{op}_us_median"] = {name: round(value, 2) for name, value in median.items()}
    print()
    if "ours_out" in times["decode"]:
        new_array = [
            a / b for a, b in zip(times["decode"]["ours"], times["decode"]["raw_c"], strict=True)
        ]
        overhead = (statistics.median(new_array) - 1) * 100
        print(f"decode, a new array per frame: ours {overhead:+.1f}% over raw libopus")
        result["decode_new_array_overhead_pct"] = round(overhead, 2)
    for op, by_name in times.items():
        # Paired: ours against raw C in the same round, then the median; the
        # decoder like for like, into the caller's array.
        ours = by_name["ours_out"] if "ours_out" in by_name else by_name["ours"]
        ratios = [a / b for a, b in zip(ours, by_name["raw_c"], strict=True)]
        overhead = (statistics.median(ratios) - 1) * 100
        spread = (min(ratios) - 1) * 100, (max(ratios) - 1) * 100
        vs_opuslib = statistics.median(a / b for a, b in zip(ours, by_name["opuslib"], strict=True))
        vs_ctypes = statistics.median(a / b for a, b in zip(ours, by_name["ctypes"], strict=True))
        verdict = "met" if overhead <= TARGET_OVERHEAD_PCT else "MISSED"
        print(
            f"{op}: ours {overhead:+.1f}% over raw libopus "
            f"(rounds {spread[0]:+.1f}..{spread[1]:+.1f}%), "
            f"target <= {TARGET_OVERHEAD_PCT:.0f}%: {verdict}; "
            f"time vs opuslib {vs_opuslib:.2f}x, vs ctypes {vs_ctypes:.2f}x"
        )
        result[f"{op}_overhead_pct"] = round(overhead, 2)
        result[f"{op}_overhead_pct_range"] = [round(spread[0], 2), round(spread[1], 2)]
        result[f"{op}_vs_opuslib"] = round(vs_opuslib, 3)
        result[f"{op}_vs_ctypes"] = round(vs_ctypes, 3)
        result[f"{op}_target_met"] = overhead <= TARGET_OVERHEAD_PCT
    return result


if __name__ == "__main__":
    sys.exit(main())
