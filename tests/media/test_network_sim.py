"""The simulated network: loss rates, burst lengths, jitter and traces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cloudlink.errors import ConfigError, MediaFileError
from cloudlink.media.network_sim import NetworkConditions, NetworkSimulator, read_trace


def _run(conditions: NetworkConditions, packets: int) -> list[float | None]:
    simulator = NetworkSimulator(conditions)
    return [simulator.delay_ms() for _ in range(packets)]


def _runs_of_loss(delays: list[float | None]) -> list[int]:
    runs, current = [], 0
    for delay in delays:
        if delay is None:
            current += 1
        elif current:
            runs.append(current)
            current = 0
    return runs


@pytest.mark.parametrize("burst_len", [1.0, 4.0])
def test_loss_rate_and_burst_length_match_the_conditions(burst_len: float) -> None:
    delays = _run(NetworkConditions(loss_pct=10.0, burst_len=burst_len, seed=5), 50000)
    loss = sum(d is None for d in delays) / len(delays)
    assert loss == pytest.approx(0.10, abs=0.01)
    mean_run = float(np.mean(_runs_of_loss(delays)))
    # Random loss at 10% gives runs of 1 / 0.9 packets on average.
    expected = 1.0 / 0.9 if burst_len == 1.0 else burst_len
    assert mean_run == pytest.approx(expected, rel=0.1)


def test_jitter_p95_and_base_delay_match_the_conditions() -> None:
    conditions = NetworkConditions(jitter_ms=40.0, base_delay_ms=25.0, seed=2)
    delays = np.array(_run(conditions, 40000), dtype=np.float64)
    assert delays.min() >= 25.0
    assert np.percentile(delays - 25.0, 95) == pytest.approx(40.0, rel=0.1)


def test_same_seed_same_path_other_seed_other_path() -> None:
    conditions = NetworkConditions(loss_pct=5.0, jitter_ms=20.0, seed=9)
    assert _run(conditions, 500) == _run(conditions, 500)
    other = NetworkConditions(loss_pct=5.0, jitter_ms=20.0, seed=10)
    assert _run(conditions, 500) != _run(other, 500)


def test_counters_follow_the_packets() -> None:
    simulator = NetworkSimulator(NetworkConditions(trace=(10.0, None, None)))
    for _ in range(6):
        simulator.delay_ms()
    assert (simulator.packets_sent, simulator.packets_lost) == (6, 4)


def test_trace_file_is_replayed_in_order(tmp_path: Path) -> None:
    path = tmp_path / "path.trace"
    path.write_text("# one-way delays\n20\n-\n35.5  # late one\n\n")
    trace = read_trace(path)
    assert trace == (20.0, None, 35.5)
    assert _run(NetworkConditions(trace=trace), 5) == [20.0, None, 35.5, 20.0, None]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("20\nfast\n", r":2: expected a delay"),
        ("-5\n", "finite number >= 0"),
        ("# x\n", "no packets"),
    ],
)
def test_bad_trace_lines_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.trace"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        read_trace(path)


def test_unreadable_trace_is_a_media_file_error(tmp_path: Path) -> None:
    with pytest.raises(MediaFileError):
        read_trace(tmp_path / "absent.trace")
    binary = tmp_path / "binary.trace"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(MediaFileError):
        read_trace(binary)


@pytest.mark.parametrize(
    "options",
    [
        {"loss_pct": -1.0},
        {"loss_pct": 100.0},
        {"burst_len": 0.5},
        {"jitter_ms": -3.0},
        {"jitter_ms": float("nan")},
        {"base_delay_ms": -1.0},
        {"trace": ()},
    ],
)
def test_bad_conditions_are_config_errors(options: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        NetworkConditions(**options)  # type: ignore[arg-type]
