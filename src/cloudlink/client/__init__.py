"""The Python client SDK: sign in, join meetings by id or link, publish
microphone, camera, screen, file or synthetic sources, receive and render
the others, mute, chat, host controls, direct calls, statistics and
quality telemetry; the credentials it keeps are encrypted at rest.
See docs/client.md.

It imports from :mod:`cloudlink.rtc` and :mod:`cloudlink.media` below it,
never from the server or the SFU.
"""

from cloudlink.client.client import Client
from cloudlink.client.credential_vault import CredentialVault, StoredCredentials
from cloudlink.client.direct_calls import IncomingCall, OutgoingCall
from cloudlink.client.local_tracks import LocalAudioTrack, LocalVideoTrack
from cloudlink.client.meeting import ACTIVE_SPEAKER, Meeting, MeetingOptions
from cloudlink.client.meeting_events import MeetingEvent
from cloudlink.client.meeting_records import ChatMessage, Participant, Track
from cloudlink.client.remote_tracks import RemoteAudioTrack, RemoteVideoTrack
from cloudlink.client.rest_client import (
    Account,
    DirectoryEntry,
    MeetingInfo,
    QualityReport,
    RestClient,
)
from cloudlink.client.signaling_connection import SignalingConnection
from cloudlink.errors import SignalingError

__all__ = [
    "ACTIVE_SPEAKER",
    "Account",
    "ChatMessage",
    "Client",
    "CredentialVault",
    "DirectoryEntry",
    "IncomingCall",
    "LocalAudioTrack",
    "LocalVideoTrack",
    "Meeting",
    "MeetingEvent",
    "MeetingInfo",
    "MeetingOptions",
    "OutgoingCall",
    "Participant",
    "QualityReport",
    "RemoteAudioTrack",
    "RemoteVideoTrack",
    "RestClient",
    "SignalingConnection",
    "SignalingError",
    "StoredCredentials",
    "Track",
]
