"""Active-speaker detection from the audio levels publishers put in their
packets (RFC 6464 client-to-mixer audio level header extension).

Each speaker's level (dBov) is smoothed exponentially; the loudest smoothed
speaker takes over when it is louder than the current one by a margin and
the current one has held the floor for a minimum time, so a cough or a
short interjection does not move everybody's video. A speaker whose packets
stopped (muted, DTX silence) counts as silent.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Final

__all__ = ["ActiveSpeakerDetector", "SpeakerChange"]

logger = logging.getLogger(__name__)

# Called with (new speaker, previous speaker); either may be None.
SpeakerChange = Callable[[str | None, str | None], None]

# RFC 6464: 127 means -127 dBov, digital silence.
_SILENT_DBOV: Final = -127.0
# Levels are smoothed with this time constant: syllables (100-200 ms) blur
# into a talker's level, a pause of a second does not.
DEFAULT_SMOOTHING_MS: Final = 300.0
# The floor is held at least this long before it can move.
DEFAULT_MIN_HOLD_MS: Final = 1000.0
# A challenger must be this much louder than the current speaker.
DEFAULT_SWITCH_MARGIN_DB: Final = 6.0
# Below this smoothed level nobody is speaking: background noise of a quiet
# office microphone sits near -60 dBov, speech near -20 to -35 dBov.
DEFAULT_SPEECH_THRESHOLD_DBOV: Final = -50.0
# Packets older than this no longer count (audio packets come every 20 ms).
_STALE_MS: Final = 500.0
# Decisions are taken at most this often, not on every packet.
_DECISION_INTERVAL_MS: Final = 50.0


class _Speaker:
    __slots__ = ("level_dbov", "updated_ms")

    def __init__(self, level_dbov: float, now_ms: float) -> None:
        self.level_dbov = level_dbov
        self.updated_ms = now_ms


class ActiveSpeakerDetector:
    """Feed it every audio level; it calls ``on_change`` when the active
    speaker changes."""

    def __init__(
        self,
        *,
        on_change: SpeakerChange | None = None,
        smoothing_ms: float = DEFAULT_SMOOTHING_MS,
        min_hold_ms: float = DEFAULT_MIN_HOLD_MS,
        switch_margin_db: float = DEFAULT_SWITCH_MARGIN_DB,
        speech_threshold_dbov: float = DEFAULT_SPEECH_THRESHOLD_DBOV,
    ) -> None:
        if smoothing_ms <= 0:
            raise ValueError(f"smoothing_ms must be > 0, got {smoothing_ms}")
        self.on_change = on_change
        self.smoothing_ms = smoothing_ms
        self.min_hold_ms = min_hold_ms
        self.switch_margin_db = switch_margin_db
        self.speech_threshold_dbov = speech_threshold_dbov
        self._speakers: dict[str, _Speaker] = {}
        self.current: str | None = None
        self._since_ms = -math.inf
        self._decided_ms = -math.inf
        self.changes = 0

    def update(self, speaker_id: str, audio_level: int, now_ms: float) -> None:
        """Takes one RFC 6464 level (0 loudest .. 127 silent) of a speaker."""
        # TODO(#5): the extension's voice-activity flag is unused, so loud noise counts as speech.
        level_dbov = -float(audio_level)
        speaker = self._speakers.get(speaker_id)
        if speaker is None:
            self._speakers[speaker_id] = _Speaker(level_dbov, now_ms)
        else:
            elapsed_ms = max(0.0, now_ms - speaker.updated_ms)
            weight = 1.0 - math.exp(-elapsed_ms / self.smoothing_ms)
            speaker.level_dbov += weight * (level_dbov - speaker.level_dbov)
            speaker.updated_ms = now_ms
        if now_ms - self._decided_ms >= _DECISION_INTERVAL_MS:
            self._decide(now_ms)

    def remove(self, speaker_id: str, now_ms: float) -> None:
        """Forgets a speaker who left; the floor moves at once if it was theirs."""
        self._speakers.pop(speaker_id, None)
        if self.current == speaker_id:
            self._change(None, now_ms)
            self._decide(now_ms)

    def level_dbov(self, speaker_id: str, now_ms: float) -> float:
        """A speaker's smoothed level, silent when unknown or stale."""
        speaker = self._speakers.get(speaker_id)
        if speaker is None or now_ms - speaker.updated_ms > _STALE_MS:
            return _SILENT_DBOV
        return speaker.level_dbov

    def _decide(self, now_ms: float) -> None:
        self._decided_ms = now_ms
        loudest, loudest_dbov = None, self.speech_threshold_dbov
        for speaker_id in self._speakers:
            level = self.level_dbov(speaker_id, now_ms)
            if level > loudest_dbov:
                loudest, loudest_dbov = speaker_id, level
        if loudest is None or loudest == self.current:
            return
        if self.current is not None:
            if now_ms - self._since_ms < self.min_hold_ms:
                return
            if loudest_dbov < self.level_dbov(self.current, now_ms) + self.switch_margin_db:
                return
        self._change(loudest, now_ms)

    def _change(self, speaker_id: str | None, now_ms: float) -> None:
        previous, self.current = self.current, speaker_id
        self._since_ms = now_ms
        self.changes += 1
        logger.info("active speaker [%s] after [%s]", speaker_id, previous)
        if self.on_change is not None:
            self.on_change(speaker_id, previous)
