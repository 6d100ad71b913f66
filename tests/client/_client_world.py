"""The organisation server on loopback (EmbeddedServer over SQLite, cheap
argon2id) with one organisation, and helpers that sign its members in
through the client SDK."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from cloudlink.accounts.passwords import PasswordPolicy
from cloudlink.client import Client, Meeting, RestClient
from cloudlink.client.live_pattern import LivePatternReading, read_live_pattern
from cloudlink.server.embedded import EmbeddedServer

FAST_PASSWORDS = PasswordPolicy(time_cost=1, memory_cost_kib=1024, parallelism=1)
PASSWORD = "correct horse battery"
ORGANISATION = "Acme"
# The administrator (who also hosts) and the members.
ADMIN = "host"
MEMBERS = [("ada", "Ada Lovelace"), ("bob", "Bob Babbage"), ("cy", "Cy Hopper")]
# A safety net against a hang, never an assertion on timing.
WAIT_S = 30.0


@pytest.fixture(name="server")
async def server_fixture(tmp_path: Path) -> AsyncIterator[EmbeddedServer]:
    """A started server with the organisation seeded."""
    embedded = EmbeddedServer(database_path=tmp_path / "server.db", password_policy=FAST_PASSWORDS)
    await embedded.start()
    try:
        embedded.add_organisation(ORGANISATION, admin=ADMIN, members=MEMBERS, password=PASSWORD)
        yield embedded
    finally:
        await embedded.stop()


async def sign_in(server: EmbeddedServer, account: str, **options: Any) -> Client:
    """A Client of ``account`` on a device named after it."""
    return await Client.login(
        server.url,
        organisation=ORGANISATION,
        account=account,
        password=PASSWORD,
        device_id=f"{account}-laptop",
        **options,
    )


async def rest_of(server: EmbeddedServer, account: str) -> RestClient:
    """A signed-in RestClient of ``account`` (close it)."""
    rest = RestClient(server.url)
    await rest.login(
        organisation=ORGANISATION,
        account_name=account,
        password=PASSWORD,
        device_id=f"{account}-rest",
    )
    return rest


@dataclass
class Received:
    """What one client heard and saw, by the sender's participant id."""

    audio: dict[str, list[npt.NDArray[np.int16]]] = field(default_factory=dict)
    video: dict[str, list[LivePatternReading | None]] = field(default_factory=dict)

    def attach(self, meeting: Meeting) -> None:
        """Keeps every frame ``meeting`` renders."""
        meeting.on_audio = lambda pid, frame: self.audio.setdefault(pid, []).append(frame.samples)
        meeting.on_video = lambda pid, _kind, frame: self.video.setdefault(pid, []).append(
            read_live_pattern(frame)
        )

    def heard(self, participant_id: str) -> npt.NDArray[np.int16]:
        frames = self.audio.get(participant_id, [])
        return np.concatenate(frames) if frames else np.zeros(0, np.int16)

    def seen(self, participant_id: str) -> list[LivePatternReading]:
        """The pattern frames read (unreadable ones left out)."""
        return [r for r in self.video.get(participant_id, []) if r is not None]


def rms(samples: npt.NDArray[np.int16]) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if samples.size else 0.0


async def until(condition: Callable[[], bool]) -> None:
    """Returns once ``condition()`` holds; TimeoutError after WAIT_S."""

    async def poll() -> None:
        while not condition():  # noqa: ASYNC110 (a condition over several objects)
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), WAIT_S)
