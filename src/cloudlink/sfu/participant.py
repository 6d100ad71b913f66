"""A participant of a room: one transport, the tracks it publishes, the
streams it receives, and its bandwidth estimate."""

from __future__ import annotations

import secrets

from cloudlink.sfu.subscription import Subscription
from cloudlink.sfu.track import PublishedTrack, TrackKind
from cloudlink.sfu.transport import DatagramTransport

__all__ = ["Participant"]


class Participant:
    """Holds what the room knows of one participant's connection."""

    def __init__(self, *, participant_id: str, transport: DatagramTransport) -> None:
        self.participant_id = participant_id
        self.transport = transport
        # The SSRC the SFU sends its own RTCP feedback to this participant under.
        self.rtcp_ssrc = secrets.randbelow(1 << 32)
        self.tracks: dict[str, PublishedTrack] = {}
        self.tracks_by_ssrc: dict[int, PublishedTrack] = {}
        self.subscriptions: list[Subscription] = []
        self.estimate_bps: float | None = None
        # When the room last sent this participant a receiver report.
        self.last_receiver_report_ms: float | None = None

    def camera(self) -> PublishedTrack | None:
        """The participant's camera track, if it publishes one."""
        for track in self.tracks.values():
            if track.kind is TrackKind.CAMERA:
                return track
        return None
