"""Call quality estimated with the E-model of ITU-T G.107 (06/2015).

    R = 93.2 - Id - Ie,eff                   (R0 - Is = 93.2 at G.107's defaults)
    Id = Idd(Ta)                             (absolute delay, mT = 100 ms, sT = 1)
    Ie,eff = Ie + (95 - Ie) Ppl / (Ppl / BurstR + Bpl)
    MOS = 1 + 0.035 R + 7e-6 R (R - 60) (100 - R)   for 0 < R < 100 (G.107 Annex B)

Only the absolute-delay term Idd of Id is kept: the talker and listener
echo terms (Idte, Idle) assume echo is under control, which the echo
canceller is there for. Opus has no entry in ITU-T G.113 Appendix I; its
impairment is taken as that of G.711 with packet-loss concealment (Ie = 0,
Bpl = 25.1, G.113 Appendix I), a conservative stand-in for wideband Opus.
This is the narrowband scale (R at most 93.2, MOS at most about 4.4).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

from cloudlink.errors import ConfigError

__all__ = [
    "BPL",
    "IE",
    "R_DEFAULT",
    "burst_ratio",
    "delay_impairment",
    "effective_equipment_impairment",
    "mos",
    "mos_from_r",
    "r_factor",
]

# R0 - Is with every G.107 parameter at its default value.
R_DEFAULT: Final = 93.2
# Equipment impairment and packet-loss robustness of G.711 with PLC
# (ITU-T G.113 Appendix I), standing in for Opus.
# TODO(#2): the wideband E-model (ITU-T G.107.1) with Ie/Bpl fitted to our
# Opus + jitter buffer (from PESQ-WB runs) would score Opus's wideband gain;
# this narrowband stand-in caps MOS at 4.41 and guesses its loss robustness.
IE: Final = 0.0
BPL: Final = 25.1
# Idd: delay below which absolute delay costs nothing (G.107 default mT, ms).
_DELAY_KNEE_MS: Final = 100.0


def delay_impairment(one_way_delay_ms: float) -> float:
    """Idd of G.107 for the mouth-to-ear delay Ta (ms): 0 up to 100 ms, then
    25 ((1 + X^6)^(1/6) - 3 (1 + (X/3)^6)^(1/6) + 2), X = log2(Ta / 100)."""
    if not math.isfinite(one_way_delay_ms) or one_way_delay_ms < 0.0:
        raise ConfigError(f"one_way_delay_ms must be a finite number >= 0, got {one_way_delay_ms}")
    if one_way_delay_ms <= _DELAY_KNEE_MS:
        return 0.0
    x = math.log2(one_way_delay_ms / _DELAY_KNEE_MS)
    near = float((1.0 + x**6) ** (1 / 6))
    far = float((1.0 + (x / 3.0) ** 6) ** (1 / 6))
    return 25.0 * (near - 3.0 * far + 2.0)


def effective_equipment_impairment(
    loss_pct: float, *, burst_ratio: float = 1.0, ie: float = IE, bpl: float = BPL
) -> float:
    """Ie,eff of G.107 for ``loss_pct`` (Ppl, %) lost after recovery."""
    if not 0.0 <= loss_pct <= 100.0:
        raise ConfigError(f"loss_pct must be within [0, 100], got {loss_pct}")
    if not burst_ratio >= 1.0:
        raise ConfigError(f"burst_ratio must be at least 1, got {burst_ratio}")
    return ie + (95.0 - ie) * loss_pct / (loss_pct / burst_ratio + bpl)


def r_factor(one_way_delay_ms: float, loss_pct: float, *, burst_ratio: float = 1.0) -> float:
    """The transmission rating R = 93.2 - Idd - Ie,eff."""
    return (
        R_DEFAULT
        - delay_impairment(one_way_delay_ms)
        - effective_equipment_impairment(loss_pct, burst_ratio=burst_ratio)
    )


def mos_from_r(r: float) -> float:
    """Estimated mean opinion score (1..4.5) for a rating R (G.107 Annex B)."""
    if r <= 0.0:
        return 1.0
    if r >= 100.0:
        return 4.5
    # The cubic dips just below 1 for R under about 6.5; MOS has no such values.
    return max(1.0, 1.0 + 0.035 * r + 7e-6 * r * (r - 60.0) * (100.0 - r))


def mos(one_way_delay_ms: float, loss_pct: float, *, burst_ratio: float = 1.0) -> float:
    """MOS estimate from mouth-to-ear delay and effective loss."""
    return mos_from_r(r_factor(one_way_delay_ms, loss_pct, burst_ratio=burst_ratio))


def burst_ratio(lost: Sequence[bool]) -> float:
    """BurstR of G.107 from an observed pattern: the mean length of runs of
    losses over the mean run length random loss of the same rate would give,
    1 / (1 - Ppl). 1.0 when nothing or everything was lost."""
    losses = sum(lost)
    if losses == 0 or losses == len(lost):
        return 1.0
    runs = sum(1 for i, is_lost in enumerate(lost) if is_lost and (i == 0 or not lost[i - 1]))
    observed = losses / runs
    expected = 1.0 / (1.0 - losses / len(lost))
    return max(1.0, observed / expected)
