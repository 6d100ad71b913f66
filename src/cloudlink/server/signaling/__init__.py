"""Signaling: the WebSocket at /api/signaling through which participants
join meetings, reach the SFU and call each other (docs/signaling.md).

| module | holds |
|---|---|
| `messages` | the request types, their JSON Schemas, reading a frame |
| `connection` | `Connection`: one socket, its send queue and rate limit |
| `media_link` | `MediaLink`: the SFU's end of a participant's WebRTC transport |
| `live_meeting` | `LiveMeeting`, `LiveParticipant`: a meeting in progress and its SFU room |
| `direct_calls` | `DirectCalls`: calls ringing and their timeout |
| `hub` | `SignalingHub`: the sockets, live meetings and calls of the process |
| `requests` | what each request does, and the checks before it |
| `websocket` | the aiohttp handler and `add_signaling` |
"""

from cloudlink.server.signaling.hub import SignalingHub
from cloudlink.server.signaling.websocket import HUB, SIGNALING_PATH, add_signaling

__all__ = ["HUB", "SIGNALING_PATH", "SignalingHub", "add_signaling"]
