"""A meeting this client takes part in: its signaling state, its media
path to the SFU, what it publishes and what it receives.

Made by :meth:`cloudlink.client.Client.join`. The meeting keeps the
participants, tracks and chat of the meeting up to date from the
signaling events (handled one at a time, in order), subscribes to the
others' tracks as they are published (unless told not to), renders what
it receives to the sinks and callbacks the application gives, reports its
quality to the server, and restarts ICE when its transport drops.

When the signaling socket drops, the :class:`~cloudlink.client.Client`
opens a new one and sends ``resume``; the meeting then takes the answer's
state (events of the gap are not replayed), re-binds what it receives to
the subscriptions the server kept, and restarts ICE.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING, Any, Final

from cloudlink.client.local_tracks import AudioInput, LocalAudioTrack, LocalVideoTrack, VideoInput
from cloudlink.client.meeting_events import EventCallback, EventDispatcher, MeetingEvent
from cloudlink.client.meeting_records import (
    TRACK_KINDS,
    ChatMessage,
    MeetingDetails,
    Participant,
    SubscriptionInfo,
    Track,
    TrackKind,
)
from cloudlink.client.meeting_transport import MeetingTransport
from cloudlink.client.quality_reporter import QualityReporter, StreamStats
from cloudlink.client.remote_tracks import RemoteAudioTrack, RemoteTrack, RemoteVideoTrack
from cloudlink.client.signaling_connection import SignalingConnection
from cloudlink.client.speaker_mix import SpeakerMix
from cloudlink.errors import ConfigError, SignalingError
from cloudlink.media.frame import AudioFrame
from cloudlink.media.network_sim import NetworkConditions
from cloudlink.media.sink import AudioSink
from cloudlink.media.video_frame import VideoFrame
from cloudlink.media.video_sink import VideoSink
from cloudlink.rtc.impairment import Impairment
from cloudlink.rtc.rtp_session import RtpSession
from cloudlink.rtc.transport import TransportParameters

if TYPE_CHECKING:
    from cloudlink.client.rest_client import RestClient

__all__ = ["ACTIVE_SPEAKER", "AudioRenderer", "Meeting", "MeetingOptions", "VideoRenderer"]

logger = logging.getLogger(__name__)

# docs/signaling.md: chat messages of 1..4000 characters.
_MAX_CHAT_CHARS: Final = 4000
# How often the watchdog looks at the transport, and the longest it waits
# between two failed ICE restarts.
_WATCHDOG_PERIOD_S: Final = 1.0
_MAX_RESTART_BACKOFF_S: Final = 10.0

# The longest a client tries to resume after its signaling socket drops,
# whatever grace the server announces.
MAX_RESUME_WINDOW_S: Final = 120.0

# The participant id the active-speaker video is rendered and reported under.
ACTIVE_SPEAKER: Final = "active-speaker"

AudioRenderer = AudioSink | Callable[[AudioFrame], None]
VideoRenderer = VideoSink | Callable[[VideoFrame], None]


@dataclasses.dataclass(frozen=True, kw_only=True)
class MeetingOptions:
    """How a client takes part in a meeting (keyword arguments of
    :meth:`Client.join`): the Opus rate of what it sends and plays, the
    kinds it subscribes to by itself, the telemetry period (None: no
    reports), the RTCP period, simulated network paths, whether the
    transport restarts by itself, and whether a 127.0.0.1 candidate is
    offered."""

    sample_rate_hz: int = 48000
    auto_subscribe: Collection[TrackKind] = TRACK_KINDS
    quality_report_interval_s: float | None = 30.0
    rtcp_interval_ms: float = 500.0
    uplink: NetworkConditions | None = None
    downlink: NetworkConditions | None = None
    auto_restart_ice: bool = True
    loopback: bool = True

    def __post_init__(self) -> None:
        unknown = set(self.auto_subscribe) - set(TRACK_KINDS)
        if unknown:
            raise ConfigError(f"auto_subscribe takes {TRACK_KINDS}, got {sorted(unknown)}")
        if self.quality_report_interval_s is not None and not self.quality_report_interval_s > 0.0:
            raise ConfigError("quality_report_interval_s must be positive or None")
        if not self.rtcp_interval_ms > 0.0:
            raise ConfigError("rtcp_interval_ms must be positive")


class Meeting:
    """One meeting, from join to leave. See docs/client.md."""

    def __init__(
        self,
        signaling: SignalingConnection,
        rest: RestClient,
        *,
        options: MeetingOptions,
        on_closed: Callable[[Meeting], None],
    ) -> None:
        self._signaling = signaling
        self._rest = rest
        self.options = options
        self._on_closed = on_closed
        self.events = EventDispatcher()
        self.details: MeetingDetails | None = None
        self.me: Participant | None = None
        self.participants: dict[str, Participant] = {}
        self.tracks: dict[str, Track] = {}
        self.active_speaker: str | None = None
        self.chat: list[ChatMessage] = []
        self.waiting_room: tuple[Participant, ...] = ()
        self.audio: LocalAudioTrack | None = None
        self.video: dict[TrackKind, LocalVideoTrack] = {}
        self.remote: dict[str, RemoteTrack] = {}
        self.transport = MeetingTransport(loopback=options.loopback)
        if options.uplink is not None:
            self.transport.uplink = Impairment(options.uplink)
        if options.downlink is not None:
            self.transport.downlink = Impairment(options.downlink)
        self.session: RtpSession | None = None
        self.on_audio: Callable[[str, AudioFrame], None] | None = None
        self.on_video: Callable[[str, TrackKind, VideoFrame], None] | None = None
        self._audio_renderers: dict[str, list[AudioRenderer]] = {}
        self._speaker: SpeakerMix | None = None
        self._video_renderers: dict[tuple[str, TrackKind], list[VideoRenderer]] = {}
        # Server events ("signaling"), and the client's own steps ("resumed").
        self._queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self._event_task: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._admitted: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        # Read by _join only while waiting; a removal at any other time is not an error.
        self._admitted.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._reporter: QualityReporter | None = None
        self._muted_before_hold: bool | None = None
        self._restart_lock = asyncio.Lock()
        self._closing: asyncio.Task[None] | None = None
        self._restart_after_resume: asyncio.Task[None] | None = None
        self._media_open = False
        self._resume_token: str | None = None
        self.resume_grace_s = 0.0
        self.closed = False
        self.close_reason: str | None = None

    # --- joining ---

    async def _join(self, meeting: str, password: str | None) -> None:
        """Joins, waits in the waiting room if told to, then opens the media path."""
        fields: dict[str, Any] = {"meeting": meeting}
        if password is not None:
            fields["password"] = password
        self._event_task = asyncio.get_running_loop().create_task(self._handle_events())
        try:
            answer = await self._signaling.request("join", fields)
        except BaseException:
            await self._teardown(reason="join_refused", send_leave=False)
            raise
        try:
            self._apply_join(answer)
            if self.me is not None and self.me.state == "waiting":
                logger.info("in the waiting room")
                self._apply_join(await self._admitted)
            await self._open_media()
        except BaseException:
            await self._teardown(reason="join_failed", send_leave=True)
            raise

    def _apply_join(self, answer: dict[str, Any]) -> None:
        try:
            self.details = MeetingDetails.from_json(answer["meeting"])
            self.me = Participant.from_json(answer["participant"])
            participants = [Participant.from_json(p) for p in answer.get("participants", [])]
            tracks = [Track.from_json(t) for t in answer.get("tracks", [])]
        except (KeyError, TypeError) as error:
            raise SignalingError(
                f"unreadable join answer: {error}", code="invalid_message"
            ) from None
        self.participants = {p.participant_id: p for p in participants}
        self.participants[self.me.participant_id] = self.me
        self.tracks = {t.track_id: t for t in tracks}
        token, grace_s = answer.get("resume_token"), answer.get("resume_grace_s")
        if isinstance(token, str) and token:
            self._resume_token = token
        if isinstance(grace_s, (int, float)) and not isinstance(grace_s, bool):
            self.resume_grace_s = min(max(float(grace_s), 0.0), MAX_RESUME_WINDOW_S)

    async def _open_media(self) -> None:
        self.session = RtpSession(self.transport, rtcp_interval_ms=self.options.rtcp_interval_ms)
        await self.transport.connect(self._negotiator("transport"))
        self.session.start()
        for track in list(self.tracks.values()):
            if track.kind in self.options.auto_subscribe:
                await self._subscribe_quietly(track)
        if self.options.quality_report_interval_s is not None:
            self._reporter = QualityReporter(
                self._rest,
                self._inbound_stats,
                meeting_code=self.code,
                rtt_ms=lambda: self.session.round_trip_time_ms if self.session else None,
                interval_s=self.options.quality_report_interval_s,
            )
            self._reporter.start()
        if self.options.auto_restart_ice:
            self._watchdog = asyncio.get_running_loop().create_task(self._watch_transport())
        self._media_open = True
        logger.info(
            "joined [participants:%d] [tracks:%d]", len(self.participants), len(self.tracks)
        )

    def _negotiator(self, message_type: str) -> Callable[[TransportParameters], Any]:
        async def negotiate(local: TransportParameters) -> TransportParameters:
            answer = await self._signaling.request(message_type, {"parameters": local.to_json()})
            return TransportParameters.from_json(answer.get("parameters"))

        return negotiate

    # --- what the meeting is ---

    @property
    def code(self) -> str:
        """The nine-digit meeting id."""
        return self.details.code if self.details else ""

    @property
    def participant_id(self) -> str:
        """This client's participant id."""
        return self.me.participant_id if self.me else ""

    @property
    def is_host(self) -> bool:
        """Host or co-host: may use the host controls."""
        return self.me is not None and self.me.is_host

    def others(self) -> list[Participant]:
        """The other participants."""
        return [p for p in self.participants.values() if p.participant_id != self.participant_id]

    def on(self, event_type: str, callback: EventCallback) -> None:
        """Calls ``callback(MeetingEvent)`` for every event of
        ``event_type`` (``"*"``: all); see :mod:`cloudlink.client.meeting_events`."""
        self.events.on(event_type, callback)

    async def wait_for(
        self,
        event_type: str,
        predicate: Callable[[MeetingEvent], bool] | None = None,
        *,
        timeout_s: float | None = 30.0,
    ) -> MeetingEvent:
        """The first event of ``event_type`` (already seen or next) that
        ``predicate`` accepts; TimeoutError after ``timeout_s``."""
        return await self.events.wait_for(event_type, predicate, timeout_s=timeout_s)

    # --- publishing ---

    async def publish_audio(
        self,
        source: AudioInput,
        *,
        muted: bool = False,
        bitrate_bps: int = 32_000,
        red: bool = True,
        echo_cancellation: bool = True,
    ) -> LocalAudioTrack:
        """Sends ``source`` (10 ms frames at the meeting's sample rate: an
        AudioSource, any iterable of AudioFrame, or a callable opening one)
        as this client's audio track, unmuted unless ``muted`` (everyone
        joins muted). With ``echo_cancellation`` what :meth:`play_audio`
        plays is taken out of it before it is coded."""
        session = self._require_session()
        if self.audio is not None:
            raise ConfigError("this client already publishes audio: unpublish it first")
        track = LocalAudioTrack(
            session,
            source,
            sample_rate_hz=self.options.sample_rate_hz,
            bitrate_bps=bitrate_bps,
            red=red,
            echo_cancellation=echo_cancellation,
        )
        await self._publish(track, session)
        self.audio = track
        track.muted = muted
        # With a loudspeaker playing, its tick captures the microphone too.
        track.driven_by_speaker = self._speaker is not None
        track.start()
        # Publishing unmutes on the server (docs/signaling.md).
        self._set_me(audio_muted=False)
        if muted:
            await self.mute_audio(True)
        return track

    async def publish_video(
        self,
        source: VideoInput,
        *,
        kind: TrackKind = "camera",
        min_bitrate_bps: int = 100_000,
        max_bitrate_bps: int = 2_500_000,
        muted: bool = False,
    ) -> LocalVideoTrack:
        """Sends ``source`` (VideoFrames: a camera, screen, file or pattern
        source, or any iterable) as this client's ``camera`` or ``screen``
        track (a camera unmuted unless ``muted``); a screen share fails
        with ``screen_share_busy`` while someone else shares."""
        session = self._require_session()
        if kind in self.video:
            raise ConfigError(f"this client already publishes a {kind}: unpublish it first")
        track = LocalVideoTrack(
            session,
            source,
            kind=kind,
            min_bitrate_bps=min_bitrate_bps,
            max_bitrate_bps=max_bitrate_bps,
        )
        await self._publish(track, session)
        self.video[kind] = track
        track.muted = muted and kind == "camera"
        track.start()
        if kind == "camera":
            self._set_me(video_muted=False)
            if muted:
                await self.mute_video(True)
        return track

    async def _publish(self, track: LocalAudioTrack | LocalVideoTrack, session: RtpSession) -> None:
        try:
            answer = await self._signaling.request(
                "publish", {"kind": track.kind, "ssrc": track.ssrc}
            )
            track.track_id = Track.from_json(answer.get("track")).track_id
        except BaseException:
            await track.stop()
            session.remove_sender(track.stream.sender)
            raise

    async def unpublish(self, kind: TrackKind) -> None:
        """Stops sending this client's ``kind`` track (a screen share ends)."""
        track: LocalAudioTrack | LocalVideoTrack | None = (
            self.audio if kind == "audio" else self.video.get(kind)
        )
        if track is None:
            raise ConfigError(f"this client publishes no {kind} track")
        if kind == "audio":
            self.audio = None
        else:
            del self.video[kind]
        await track.stop()
        if self.session is not None:
            self.session.remove_sender(track.stream.sender)
        if track.track_id is not None:
            await self._signaling.request("unpublish", {"track_id": track.track_id})

    # --- muting, the microphone, hands and chat ---

    async def mute_audio(self, muted: bool = True) -> None:
        """Mutes (silence is sent, the SFU stops forwarding) or unmutes this client's audio."""
        await self._request("mute", {"kind": "audio", "muted": muted})
        if self.audio is not None:
            self.audio.muted = muted
        self._set_me(audio_muted=muted)

    async def mute_video(self, muted: bool = True) -> None:
        """Mutes (frames dropped) or unmutes this client's camera."""
        await self._request("mute", {"kind": "video", "muted": muted})
        camera = self.video.get("camera")
        if camera is not None:
            camera.set_muted(muted)
        self._set_me(video_muted=muted)

    async def hold_microphone(self) -> None:
        """For a phone call on the device: the audio track goes muted and
        silent and the source is released, until :meth:`resume_microphone`."""
        if self.audio is None or self.audio.held:
            return
        self._muted_before_hold = self.audio.muted
        self.audio.hold()
        if not self._muted_before_hold:
            await self.mute_audio(True)

    async def resume_microphone(self) -> None:
        """Reopens the source after :meth:`hold_microphone` and unmutes
        unless the user had muted before the hold."""
        if self.audio is None or not self.audio.held:
            return
        self.audio.resume()
        if self._muted_before_hold is False:
            await self.mute_audio(False)
        self._muted_before_hold = None

    async def raise_hand(self, raised: bool = True) -> None:
        """Raises (or lowers) this client's hand."""
        await self._request("raise-hand", {"raised": raised})
        self._set_me(hand_raised=raised)

    async def send_chat(self, text: str, *, to: str | None = None) -> None:
        """Sends a chat message to everyone, or to participant ``to``."""
        if not isinstance(text, str) or not 0 < len(text) <= _MAX_CHAT_CHARS:
            raise ConfigError(f"a chat message has 1..{_MAX_CHAT_CHARS} characters")
        fields: dict[str, Any] = {"text": text}
        if to is not None:
            fields["to"] = to
        await self._request("chat", fields)

    # --- host controls ---

    async def mute_all(self) -> None:
        """Host: mutes everyone else's audio (they may unmute themselves)."""
        await self._request("mute-all")

    async def mute_participant(self, participant_id: str) -> None:
        """Host: mutes one participant's audio."""
        await self._request("mute-participant", {"participant_id": participant_id})

    async def remove(self, participant_id: str) -> None:
        """Host: removes a participant from the meeting."""
        await self._request("remove", {"participant_id": participant_id})

    async def lock(self, locked: bool = True) -> None:
        """Host: locks (no new attendee may join) or unlocks the meeting."""
        await self._request("lock", {"locked": locked})

    async def admit(self, participant_id: str) -> None:
        """Host: admits a participant from the waiting room."""
        await self._request("admit", {"participant_id": participant_id})

    # --- receiving ---

    async def subscribe(self, track_id: str) -> RemoteTrack:
        """Receives a published track (automatic for the kinds in
        ``MeetingOptions.auto_subscribe``)."""
        session = self._require_session()
        existing = self.remote.get(track_id)
        if existing is not None:
            return existing
        track = self.tracks.get(track_id)
        if track is None:
            raise ConfigError(f"no track {track_id!r} in this meeting")
        answer = await self._signaling.request("subscribe", {"track_id": track_id})
        info = SubscriptionInfo.from_json(answer.get("subscription"))
        remote: RemoteTrack
        if track.kind == "audio":
            remote = RemoteAudioTrack(
                session,
                track,
                info,
                sample_rate_hz=self.options.sample_rate_hz,
                on_frame=lambda frame: self._render_audio(track.participant_id, frame),
            )
        else:
            remote = RemoteVideoTrack(
                session,
                track,
                info,
                on_frame=lambda frame: self._render_video(track.participant_id, track.kind, frame),
            )
        owner = self.participants.get(track.participant_id)
        if isinstance(remote, RemoteAudioTrack) and owner is not None:
            remote.muted = owner.audio_muted
        if track_id not in self.tracks:
            # Unpublished while the subscription was on its way.
            await remote.close()
            raise ConfigError(f"track {track_id!r} was unpublished")
        self.remote[track_id] = remote
        remote.start()
        self.events.emit(MeetingEvent("track-subscribed", track=track))
        return remote

    async def subscribe_active_speaker(self) -> RemoteVideoTrack:
        """A video stream showing whoever speaks (never this client), the
        SFU switching sources at keyframes; rendered under the participant
        id :data:`ACTIVE_SPEAKER` (``render_video(ACTIVE_SPEAKER, sink)``,
        ``on_video``), unsubscribed with ``unsubscribe(ACTIVE_SPEAKER)``."""
        session = self._require_session()
        existing = self.remote.get(ACTIVE_SPEAKER)
        if isinstance(existing, RemoteVideoTrack):
            return existing
        if self.closed:
            raise ConfigError("this meeting has been left")
        answer = await self._signaling.request("subscribe", {"active_speaker": True})
        info = SubscriptionInfo.from_json(answer.get("subscription"))
        slot = Track(
            track_id=ACTIVE_SPEAKER, participant_id=ACTIVE_SPEAKER, kind="camera", muted=False
        )
        remote = RemoteVideoTrack(
            session,
            slot,
            info,
            on_frame=lambda frame: self._render_video(ACTIVE_SPEAKER, "camera", frame),
        )
        self.remote[ACTIVE_SPEAKER] = remote
        remote.start()
        self.events.emit(MeetingEvent("track-subscribed", track=slot))
        return remote

    async def unsubscribe(self, track_id: str) -> None:
        """Stops receiving a track."""
        remote = self.remote.pop(track_id, None)
        if remote is None:
            return
        await remote.close()
        with contextlib.suppress(SignalingError):
            await self._signaling.request(
                "unsubscribe", {"subscription_id": remote.subscription.subscription_id}
            )

    def render_audio(self, participant_id: str, renderer: AudioRenderer) -> None:
        """Plays ``participant_id``'s audio into ``renderer`` (an AudioSink
        or a callable taking each 10 ms frame), now and after reconnects."""
        self._audio_renderers.setdefault(participant_id, []).append(renderer)

    def render_video(
        self, participant_id: str, renderer: VideoRenderer, *, kind: TrackKind = "camera"
    ) -> None:
        """Shows ``participant_id``'s ``camera`` or ``screen`` in ``renderer``
        (a VideoSink or a callable taking each decoded VideoFrame)."""
        if kind == "audio":
            raise ConfigError("render audio with render_audio")
        self._video_renderers.setdefault((participant_id, kind), []).append(renderer)

    def play_audio(self, sink: AudioRenderer) -> SpeakerMix:
        """Plays everyone this client hears, mixed into one 10 ms frame per
        tick, into ``sink`` (the loudspeaker: an AudioSink or a callable);
        the same mix is the far end of this client's echo canceller. Once
        per meeting; ConfigError after that."""
        if self._speaker is not None:
            raise ConfigError("this meeting already plays its audio")
        play = sink.write if isinstance(sink, AudioSink) else sink
        self._speaker = SpeakerMix(
            sample_rate_hz=self.options.sample_rate_hz,
            play=play,
            far_end=lambda: self.audio.render if self.audio is not None else None,
            capture=self._microphone_step,
        )
        if self.audio is not None:
            # The microphone's own tick stops at its next turn; the
            # loudspeaker's takes over from there (one device clock).
            self.audio.driven_by_speaker = True
        self._speaker.start()
        return self._speaker

    def _microphone_step(self) -> Callable[[], Awaitable[None]] | None:
        """The published microphone's step, once its own tick has stopped."""
        track = self.audio
        if track is None or track.runs_own_clock:
            return None
        return track.step

    def _render_audio(self, participant_id: str, frame: AudioFrame) -> None:
        if self._speaker is not None:
            self._speaker.put(participant_id, frame)
        for renderer in self._audio_renderers.get(participant_id, ()):
            _call(renderer.write if isinstance(renderer, AudioSink) else renderer, frame)
        hook = self.on_audio
        if hook is not None:
            _call(lambda f: hook(participant_id, f), frame)

    def _render_video(self, participant_id: str, kind: TrackKind, frame: VideoFrame) -> None:
        for renderer in self._video_renderers.get((participant_id, kind), ()):
            _call(renderer.write if isinstance(renderer, VideoSink) else renderer, frame)
        hook = self.on_video
        if hook is not None:
            _call(lambda f: hook(participant_id, kind, f), frame)

    # --- connectivity ---

    async def restart_ice(self) -> None:
        """After a connectivity change: a new transport, negotiated with
        ``restart-ice``; media goes on over it under the same SSRCs.
        ConnectionError (the old path kept) if it cannot connect."""
        self._require_session()
        async with self._restart_lock:
            await self.transport.restart(self._negotiator("restart-ice"))
        for track in self.video.values():
            # The receivers may have lost the reference picture meanwhile.
            track.pipeline.request_keyframe()
        self.events.emit(MeetingEvent("reconnected"))

    async def _watch_transport(self) -> None:
        # TODO(#5): a path that goes silent without ICE noticing (consent
        # freshness takes ~30 s) is not detected sooner; a media-silence
        # check would cut that to a few seconds.
        backoff_s = _WATCHDOG_PERIOD_S
        while not self.closed:
            await asyncio.sleep(backoff_s)
            if self.transport.connected or self._restart_lock.locked():
                backoff_s = _WATCHDOG_PERIOD_S
                continue
            logger.info("transport lost: restarting ice")
            try:
                await self.restart_ice()
                backoff_s = _WATCHDOG_PERIOD_S
            except asyncio.CancelledError:
                raise
            except (ConnectionError, SignalingError, OSError) as error:
                backoff_s = min(2.0 * backoff_s, _MAX_RESTART_BACKOFF_S)
                logger.warning("ice restart failed (%s); next try in %.0f s", error, backoff_s)

    # --- statistics ---

    def stats(self) -> dict[str, Any]:
        """Everything measurable now, in W3C webrtc-stats names:

        ``outbound``: {kind: outbound-rtp of this client's tracks},
        ``inbound``: {participant_id: {kind: inbound-rtp}},
        ``transport``: packets/bytes both ways, ``iceRestarts``,
        ``roundTripTime`` (s), and the simulated path's drops."""
        outbound: dict[str, StreamStats] = {}
        if self.audio is not None:
            outbound["audio"] = self.audio.stats()
        for kind, video in self.video.items():
            outbound[kind] = video.stats()
        inbound: dict[str, dict[str, StreamStats]] = {}
        for remote in self.remote.values():
            inbound.setdefault(remote.participant_id, {})[remote.track.kind] = remote.stats()
        counters = self.transport.counters()
        rtt_ms = self.session.round_trip_time_ms if self.session else None
        transport: dict[str, Any] = {
            "packetsSent": counters["packets_sent"],
            "bytesSent": counters["bytes_sent"],
            "packetsReceived": counters["packets_received"],
            "bytesReceived": counters["bytes_received"],
            "packetsNotSent": counters["packets_not_sent"],
            "iceRestarts": self.transport.ice_restarts,
            "roundTripTime": rtt_ms / 1000.0 if rtt_ms is not None else None,
            "connected": self.transport.connected,
        }
        for name, impairment in (
            ("uplink", self.transport.uplink),
            ("downlink", self.transport.downlink),
        ):
            if impairment is not None:
                transport[f"{name}PacketsDropped"] = impairment.packets_dropped
        return {
            "meeting": self.code,
            "participantId": self.participant_id,
            "outbound": outbound,
            "inbound": inbound,
            "transport": transport,
        }

    def _inbound_stats(self) -> dict[tuple[str, str], StreamStats]:
        return {
            (remote.track.kind, track_id): remote.stats()
            for track_id, remote in self.remote.items()
        }

    @property
    def quality_reporter(self) -> QualityReporter | None:
        """The telemetry reporter (None when reports are off)."""
        return self._reporter

    # --- leaving ---

    async def leave(self) -> None:
        """Leaves the meeting: media stops, a last quality report goes out."""
        await self._teardown(reason="left", send_leave=True)

    async def _teardown(self, *, reason: str, send_leave: bool) -> None:
        if self.closed:
            return
        self.closed = True
        self.close_reason = reason
        current = asyncio.current_task()
        for task in (self._watchdog, self._event_task, self._restart_after_resume):
            if task is not None and task is not current:
                task.cancel()
                await asyncio.wait([task])
        if self._reporter is not None:
            await self._reporter.stop(final_report=self.session is not None)
        if self._speaker is not None:
            await self._speaker.stop()
        for track in [self.audio, *self.video.values()]:
            if track is not None:
                await track.stop()
        for remote in list(self.remote.values()):
            await remote.close()
        self.remote.clear()
        if send_leave and not self._signaling.closed:
            with contextlib.suppress(SignalingError):
                await self._signaling.request("leave")
        if self.session is not None:
            await self.session.close()
        await self.transport.close()
        if not self._admitted.done():
            self._admitted.cancel()
        self._on_closed(self)
        logger.info("left the meeting [reason:%s]", reason)
        self.events.emit(MeetingEvent("left", reason=reason))

    # --- signaling events ---

    def _enqueue(self, message: dict[str, Any]) -> None:
        """Takes one event from the socket (in order); handled by the event task."""
        if not self.closed:
            self._queue.put_nowait(("signaling", message))

    @property
    def _resumable(self) -> bool:
        """Whether a dropped socket may be resumed: joined, media open, a resume token."""
        return (
            not self.closed
            and self._closing is None
            and self._media_open
            and self._resume_token is not None
        )

    def _resume_fields(self) -> dict[str, Any]:
        """The fields of the ``resume`` request."""
        return {"participant_id": self.participant_id, "resume_token": self._resume_token}

    def _signaling_lost(self) -> None:
        """The socket dropped; the client is opening a new one to resume."""
        if not self.closed:
            self._queue.put_nowait(("reconnecting", {}))

    def _resumed(self, signaling: SignalingConnection, answer: dict[str, Any]) -> None:
        """The server took this participant back on ``signaling``: requests
        go there now; the answer's state is applied in event order."""
        self._signaling = signaling
        if not self.closed:
            self._queue.put_nowait(("resumed", answer))

    def _connection_lost(self, reason: str) -> None:
        """The signaling socket closed: the server has taken us out."""
        if not self.closed and self._closing is None:
            # Kept: the loop holds tasks only weakly.
            self._closing = asyncio.get_running_loop().create_task(
                self._teardown(reason=reason, send_leave=False)
            )

    async def _handle_events(self) -> None:
        while True:
            source, message = await self._queue.get()
            try:
                if source == "resumed":
                    await self._apply_resume(message)
                elif source == "reconnecting":
                    self.events.emit(MeetingEvent("reconnecting"))
                else:
                    await self._handle(message)
            except asyncio.CancelledError:
                raise
            except SignalingError as error:
                logger.warning("signaling: %s dropped: %s", message.get("type"), error)
            except (KeyError, TypeError, ValueError) as error:
                logger.warning("signaling: malformed %s dropped: %r", message.get("type"), error)
            except Exception:
                # A bug must not end the event task: the meeting would go deaf.
                logger.exception("signaling: handling %s failed", message.get("type"))

    async def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        emit = self.events.emit
        if kind == "participant-joined" or kind == "participant-updated":
            participant = Participant.from_json(message["participant"])
            self.participants[participant.participant_id] = participant
            if participant.participant_id == self.participant_id:
                self.me = participant
            for remote in self.remote.values():
                if remote.participant_id == participant.participant_id and isinstance(
                    remote, RemoteAudioTrack
                ):
                    remote.muted = participant.audio_muted
            emit(
                MeetingEvent(
                    kind, participant=participant, participant_id=participant.participant_id
                )
            )
        elif kind == "participant-left":
            participant_id = str(message["participant_id"])
            gone = self.participants.pop(participant_id, None)
            if self._speaker is not None:
                self._speaker.remove(participant_id)
            for track_id in [
                t for t, tr in self.tracks.items() if tr.participant_id == participant_id
            ]:
                await self._forget_track(track_id)
            emit(
                MeetingEvent(
                    kind,
                    participant=gone,
                    participant_id=participant_id,
                    reason=str(message.get("reason", "left")),
                )
            )
        elif kind == "track-published":
            track = Track.from_json(message["track"])
            self.tracks[track.track_id] = track
            emit(MeetingEvent(kind, track=track, participant_id=track.participant_id))
            if track.kind in self.options.auto_subscribe and self.session is not None:
                await self._subscribe_quietly(track)
        elif kind == "track-unpublished":
            track_id = str(message["track_id"])
            known = self.tracks.get(track_id)
            await self._forget_track(track_id)
            emit(
                MeetingEvent(
                    kind, track=known, participant_id=known.participant_id if known else None
                )
            )
        elif kind == "active-speaker":
            speaker = message.get("participant_id")
            self.active_speaker = speaker if isinstance(speaker, str) else None
            emit(MeetingEvent(kind, participant_id=self.active_speaker))
        elif kind == "chat":
            chat = ChatMessage.from_json(message)
            self.chat.append(chat)
            emit(MeetingEvent(kind, chat=chat, participant_id=chat.sender_id))
        elif kind == "muted-by-host":
            muted_kind = str(message.get("kind", "audio"))
            if muted_kind == "audio" and self.audio is not None:
                self.audio.muted = True
            if muted_kind == "video" and "camera" in self.video:
                self.video["camera"].set_muted(True)
            emit(MeetingEvent(kind, kind=muted_kind))
        elif kind == "meeting-updated":
            self.details = MeetingDetails.from_json(message["meeting"])
            emit(MeetingEvent(kind, data=dict(message["meeting"])))
        elif kind == "waiting-room":
            self.waiting_room = tuple(Participant.from_json(p) for p in message.get("waiting", []))
            emit(MeetingEvent(kind, waiting=self.waiting_room))
        elif kind == "admitted":
            if not self._admitted.done():
                self._admitted.set_result(message)
            emit(MeetingEvent(kind))
        elif kind == "removed":
            reason = str(message.get("reason", "removed_by_host"))
            emit(MeetingEvent(kind, reason=reason))
            if not self._admitted.done():
                self._admitted.set_exception(
                    SignalingError("removed from the meeting", code=reason)
                )
            await self._teardown(reason=reason, send_leave=False)
        elif kind == "meeting-ended":
            emit(MeetingEvent(kind))
            await self._teardown(reason="meeting_ended", send_leave=False)
        else:
            logger.debug("signaling: event %s ignored", kind)

    async def _apply_resume(self, answer: dict[str, Any]) -> None:
        """Takes the ``resume`` answer's state; keeps the receivers whose
        subscriptions the server kept, closes the others, subscribes to
        new tracks, then restarts ICE in the background."""
        before = set(self.participants)
        self._apply_join(answer)
        kept = {
            SubscriptionInfo.from_json(s).subscription_id for s in answer.get("subscriptions", [])
        }
        for track_id, remote in list(self.remote.items()):
            if remote.subscription.subscription_id not in kept:
                del self.remote[track_id]
                await remote.close()
            elif isinstance(remote, RemoteAudioTrack):
                owner = self.participants.get(remote.participant_id)
                remote.muted = owner.audio_muted if owner is not None else remote.muted
        if self._speaker is not None:
            for participant_id in before - set(self.participants):
                self._speaker.remove(participant_id)
        logger.info(
            "resumed [participants:%d] [tracks:%d]", len(self.participants), len(self.tracks)
        )
        self.events.emit(MeetingEvent("resumed"))
        for track in list(self.tracks.values()):
            if track.kind in self.options.auto_subscribe and track.track_id not in self.remote:
                await self._subscribe_quietly(track)
        # A network change that dropped the socket has likely moved the media path too.
        if self._restart_after_resume is None or self._restart_after_resume.done():
            self._restart_after_resume = asyncio.get_running_loop().create_task(
                self._restart_quietly()
            )

    async def _restart_quietly(self) -> None:
        try:
            await self.restart_ice()
        except asyncio.CancelledError:
            raise
        except (ConnectionError, SignalingError, ConfigError, OSError) as error:
            # The watchdog tries again while the transport is down.
            logger.warning("ice restart after resume failed: %s", error)

    async def _subscribe_quietly(self, track: Track) -> None:
        try:
            await self.subscribe(track.track_id)
        except (SignalingError, ConfigError) as error:
            # Unpublished meanwhile, or refused: nothing to receive.
            logger.info("not subscribed to a %s track: %s", track.kind, error)

    async def _forget_track(self, track_id: str) -> None:
        self.tracks.pop(track_id, None)
        remote = self.remote.pop(track_id, None)
        if remote is not None:
            await remote.close()

    def _set_me(self, **changes: Any) -> None:
        if self.me is not None:
            self.me = dataclasses.replace(self.me, **changes)
            self.participants[self.me.participant_id] = self.me

    async def _request(self, message_type: str, fields: dict[str, Any] | None = None) -> None:
        if self.closed:
            raise ConfigError("this meeting has been left")
        await self._signaling.request(message_type, fields)

    def _require_session(self) -> RtpSession:
        if self.closed:
            raise ConfigError("this meeting has been left")
        if self.session is None:
            raise ConfigError("the meeting's media path is not open yet")
        return self.session


def _call(function: Callable[[Any], object], argument: Any) -> None:
    """Calls an application renderer; one that raises is logged, the stream goes on."""
    try:
        function(argument)
    except Exception:
        logger.exception("a renderer failed")
