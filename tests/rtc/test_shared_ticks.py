"""One tick for many streams: every member is stepped once per tick, in
the order it joined, from the next tick; a member leaves when cancelled,
after its ticks, or with the error its step raised, and the others tick on.
A session's video streams poll on one shared tick."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from cloudlink.errors import ConfigError
from cloudlink.media.video_receive_pipeline import VideoReceivePipeline
from cloudlink.rtc.media_streams import VideoReceiveStream
from cloudlink.rtc.rtp_session import RtpSession
from cloudlink.rtc.shared_ticks import SharedTicks
from cloudlink.rtc.transport import connect_pair

PERIOD_MS = 2.0


def _ticks() -> SharedTicks:
    loop = asyncio.get_running_loop()
    return SharedTicks(lambda: loop.time() * 1000.0, period_ms=PERIOD_MS)


def test_members_step_in_join_order_with_the_same_deadlines() -> None:
    async def run() -> tuple[list[tuple[str, float]], int]:
        ticks = _ticks()
        steps: list[tuple[str, float]] = []

        async def later(deadline_ms: float) -> None:
            steps.append(("b", deadline_ms))

        await asyncio.gather(
            ticks.run(lambda deadline_ms: steps.append(("a", deadline_ms)) and None, ticks=3),
            ticks.run(later, ticks=3),
        )
        return steps, ticks.members

    steps, members = asyncio.run(run())
    assert [name for name, _ in steps] == ["a", "b"] * 3
    deadlines = [ms for _, ms in steps]
    assert deadlines[0::2] == deadlines[1::2]
    assert [b - a for a, b in itertools.pairwise(deadlines[0::2])] == [PERIOD_MS] * 2
    assert members == 0


def test_a_failing_member_gets_its_error_and_the_others_tick_on() -> None:
    async def run() -> tuple[int, bool]:
        ticks = _ticks()
        count = 0

        def count_step(_: float) -> None:
            nonlocal count
            count += 1

        def fail(_: float) -> None:
            raise ValueError("bad frame")

        steady = asyncio.ensure_future(ticks.run(count_step, ticks=5))
        with pytest.raises(ValueError, match="bad frame"):
            await ticks.run(fail)
        await steady
        return count, ticks._driver is None

    count, stopped = asyncio.run(run())
    assert count == 5
    assert stopped


def test_a_cancelled_member_leaves_and_the_last_one_stops_the_timer() -> None:
    async def run() -> tuple[int, int, bool]:
        ticks = _ticks()
        steps: list[float] = []
        stepped_twice = asyncio.Event()

        def step(deadline_ms: float) -> None:
            steps.append(deadline_ms)
            if len(steps) == 2:
                stepped_twice.set()

        member = asyncio.ensure_future(ticks.run(step))
        await stepped_twice.wait()
        during = ticks.members
        member.cancel()
        with pytest.raises(asyncio.CancelledError):
            await member
        stepped = len(steps)
        await asyncio.sleep(0.01)
        assert len(steps) == stepped
        return during, ticks.members, ticks._driver is None

    assert asyncio.run(run()) == (1, 0, True)


def test_late_ticks_are_served_so_the_count_matches_the_time() -> None:
    async def run() -> list[float]:
        ticks = _ticks()
        steps: list[float] = []
        stepped = asyncio.Event()

        def step(deadline_ms: float) -> None:
            steps.append(deadline_ms)
            stepped.set()

        member = asyncio.ensure_future(ticks.run(step))
        await asyncio.sleep(0.001)
        stepped.clear()
        start_ms = asyncio.get_running_loop().time() * 1000.0
        while asyncio.get_running_loop().time() * 1000.0 - start_ms < 5 * PERIOD_MS:
            pass  # the loop stalls for 5 periods
        await stepped.wait()
        member.cancel()
        await asyncio.wait([member])
        return steps

    steps = asyncio.run(run())
    # The first wake-up after the stall serves every deadline it passed.
    assert len(steps) >= 5
    assert all(b - a == PERIOD_MS for a, b in itertools.pairwise(steps))


def test_a_period_must_be_positive_and_no_ticks_returns_at_once() -> None:
    with pytest.raises(ConfigError, match="period_ms"):
        SharedTicks(lambda: 0.0, period_ms=0.0)

    async def run() -> int:
        ticks = _ticks()
        await ticks.run(lambda _: None, ticks=0)
        return ticks.members

    assert asyncio.run(run()) == 0


def test_a_sessions_video_streams_share_one_poll_that_a_long_rtt_does_not_stop() -> None:
    async def run() -> tuple[int, int, bool]:
        a, b = await connect_pair()
        session = RtpSession(b)
        sender = session.add_sender(kind="video", clock_rate_hz=90_000)
        streams = [VideoReceiveStream(session, VideoReceivePipeline()) for _ in range(3)]
        players = [asyncio.ensure_future(s.play(lambda _: None)) for s in streams]
        poll = session.shared_ticks(5.0)
        await poll.run(lambda _: None, ticks=2)
        members = poll.members
        # What a report block measures after the loop stalled for 12 s.
        sender.round_trip_time_ms = 12_000.0
        await poll.run(lambda _: None, ticks=3)
        running = sum(not p.done() for p in players)
        for player in players:
            player.cancel()
        await asyncio.wait(players)
        await a.close()
        await b.close()
        return members, running, poll._driver is None

    assert asyncio.run(run()) == (3, 3, True)
