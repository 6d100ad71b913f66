"""The selective forwarding unit: rooms that forward RTP between
participants without decoding media (see docs/sfu.md).

The data path is transport-agnostic: a room takes the datagrams a
participant's transport received and sends through each participant's
:class:`DatagramTransport`.
"""

from __future__ import annotations

from cloudlink.sfu.active_speaker import ActiveSpeakerDetector
from cloudlink.sfu.counters import RoomCounters
from cloudlink.sfu.participant import Participant
from cloudlink.sfu.room import Room
from cloudlink.sfu.subscription import Subscription
from cloudlink.sfu.track import PublishedTrack, TrackKind
from cloudlink.sfu.transport import DatagramTransport

__all__ = [
    "ActiveSpeakerDetector",
    "DatagramTransport",
    "Participant",
    "PublishedTrack",
    "Room",
    "RoomCounters",
    "Subscription",
    "TrackKind",
]
