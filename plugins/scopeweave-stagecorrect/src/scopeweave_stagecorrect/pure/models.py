"""The two correction models: which offsets apply to each tile, and their presets.

Both predict ``P_true = M (P_meta - P_meta[0]) + sum(offsets of the tile) + V_thermal(i)
+ P_meta[0]`` in pixels: the first tile keeps its metadata position and every
offset is relative to it (the seed's ``START = (0, 0)``).  A tile's offsets
come from the move that reached it:

``lut-affine`` (the seed's v2.0)
    One offset per movement mask ``(sweep << 2) | (right << 1) | down``, plus
    8 on the scan's first right / first down move.  A first-move entry is
    blended with its regular entry by its confidence, so a single noisy
    observation does not take over until sessions confirm it.
``backlash-state`` (the seed's v1 truth table)
    Per-axis backlash state: the offsets ``right`` / ``left`` follow the
    direction X last moved in, ``down`` / ``up`` the direction Y last moved
    in (idle time does not change backlash); a short move that reverses an
    axis adds the signed lost motion ``backlash_x`` / ``backlash_y`` on that
    tile, plus ``reversal`` when X reverses at a row change; the first down
    move adds ``first_down`` (blended by its confidence: the stage's state
    before the scan is unknown); a long move (rapids) replaces the moved
    axis's state offset by ``long_right``, ``long_left``, ``long_y``,
    ``long_up`` or ``long_diag`` (reduced backlash after rapids).

Standard library only.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scopeweave_stagecorrect.pure.movement import Move, classify_moves, lut_mask, mask_name, state_code
from scopeweave_stagecorrect.pure.profile import Affine, Offset, Profile, Thermal

__all__ = ["MODELS", "BacklashStateModel", "LutAffineModel", "Term", "get_model"]

#: ``(offset key, coefficient on x, coefficient on y)``: a tile gets ``coef * offset`` per axis.
Term = tuple[str, float, float]

DEFAULT_SETTINGS: dict[str, Any] = {
    "sweep_limit_px": 500.0,
    "long_move_factor": 2.0,
    "move_tolerance_px": 0.5,
    "idle_axis": "literal",
}


@dataclass(frozen=True)
class _Base(abc.ABC):
    name: str
    default_preset: str

    @abc.abstractmethod
    def presets(self) -> tuple[str, ...]:
        """Names of the presets a new profile can start from."""

    @abc.abstractmethod
    def new_profile(self, preset: str, *, microscope: str = "default", objective: str = "default") -> Profile:
        """A fresh profile from a preset (never learned on this microscope: every evidence is 0)."""

    @abc.abstractmethod
    def terms(self, moves: Sequence[Move], profile: Profile, *, for_learning: bool) -> list[list[Term]]:
        """Offset terms of each tile; ``for_learning`` gives each first-move entry its full weight."""

    @abc.abstractmethod
    def codes(self, moves: Sequence[Move], profile: Profile) -> list[str]:
        """The per-tile state names shown in the debug output."""

    @abc.abstractmethod
    def first_down_confidence(self, profile: Profile) -> float:
        """Confidence of the first-down offset, for the status message."""

    def classify(self, positions_px: Sequence[tuple[float, float]], profile: Profile) -> list[Move]:
        """Classify a scan with the profile's settings."""
        s = {**DEFAULT_SETTINGS, **profile.settings}
        return classify_moves(
            positions_px,
            sweep_limit_px=float(s["sweep_limit_px"]),
            long_move_factor=float(s["long_move_factor"]),
            move_tolerance_px=float(s["move_tolerance_px"]),
        )

    def _check_preset(self, preset: str) -> None:
        if preset not in self.presets():
            raise ValueError(f"unknown {self.name} preset {preset!r} (presets: {', '.join(self.presets())})")


def _preset_offsets(values: Mapping[str, tuple[float, float]]) -> dict[str, Offset]:
    # Preset values are trusted as given (confidence 1) until this microscope's own sessions
    # start: with evidence 0 the first learning session replaces them and rebuilds confidence.
    return {key: Offset(x_px=x, y_px=y, confidence=1.0) for key, (x, y) in values.items()}


#: The seed's v2.0 LUT, measured on a 251-tile dataset: mask -> (x, y) px.
SEED_V2_LUT: dict[str, tuple[float, float]] = {
    "0": (-5.12, -3.80),
    "1": (-6.30, 18.60),
    "2": (0.84, -5.20),
    "3": (15.00, 15.00),
    "5": (36.20, 24.00),
    "7": (14.50, 12.20),
    "9": (-30.40, 18.60),
    "10": (18.37, -5.20),
}


@dataclass(frozen=True)
class LutAffineModel(_Base):
    """The seed's v2.0 model: affine + LUT[movement mask] + thermal drift."""

    name: str = "lut-affine"
    default_preset: str = "seed-v2-251"

    def presets(self) -> tuple[str, ...]:
        return ("seed-v2-251", "identity")

    def new_profile(self, preset: str, *, microscope: str = "default", objective: str = "default") -> Profile:
        self._check_preset(preset)
        if preset == "identity":
            return Profile(model=self.name, microscope=microscope, objective=objective, preset=preset,
                           settings=dict(DEFAULT_SETTINGS))
        return Profile(
            model=self.name, microscope=microscope, objective=objective, preset=preset, pixel_size_um=0.345,
            affine=Affine(scale_x=1.03265, scale_y=1.00210, skew_xy=0.0066, skew_yx=0.0066),
            offsets=_preset_offsets(SEED_V2_LUT),
            thermal={"cold": Thermal(decay_per_tile=0.95), "preheated": Thermal(decay_per_tile=0.95)},
            settings=dict(DEFAULT_SETTINGS), dataset_size=0,
        )

    def _masks(self, moves: Sequence[Move], profile: Profile) -> list[int | None]:
        idle_axis = str({**DEFAULT_SETTINGS, **profile.settings}["idle_axis"])
        return [lut_mask(move, idle_axis=idle_axis) for move in moves]

    @staticmethod
    def _fallbacks(mask: int) -> list[str]:
        chain = [mask, mask & ~8, mask & ~8 & ~4]
        keys: list[str] = []
        for value in chain:
            if str(value) not in keys:
                keys.append(str(value))
        return keys

    def terms(self, moves: Sequence[Move], profile: Profile, *, for_learning: bool) -> list[list[Term]]:
        result: list[list[Term]] = []
        for mask in self._masks(moves, profile):
            if mask is None:
                result.append([])
                continue
            if for_learning:
                result.append([(str(mask), 1.0, 1.0)])
                continue
            present = [key for key in self._fallbacks(mask) if profile.usable_offset(key) is not None]
            if not present:
                result.append([])
            elif mask & 8 and present[0] == str(mask) and len(present) > 1:
                c = profile.offsets[present[0]].confidence
                result.append([(present[0], c, c), (present[1], 1.0 - c, 1.0 - c)])
            else:
                result.append([(present[0], 1.0, 1.0)])
        return result

    def codes(self, moves: Sequence[Move], profile: Profile) -> list[str]:
        return [f"{mask_name(mask)}({mask})" if mask is not None else "START" for mask in self._masks(moves, profile)]

    def first_down_confidence(self, profile: Profile) -> float:
        values = [
            profile.offsets[k].confidence
            for k in ("9", "11", "13", "15")
            if k in profile.offsets and profile.offsets[k].evidence > 0
        ]
        return max(values, default=0.0)


#: The seed's v1 truth-table values (px), kept as a preset; the seed found them "nearly worse than uncorrected".
SEED_V1_OFFSETS: dict[str, tuple[float, float]] = {
    "right": (37.16, 8.15),
    "left": (-37.12, -8.37),
    "first_down": (-6.10, 33.90),
    "down": (-20.70, 28.90),
    "backlash_x": (3.50, 0.0),
    "reversal": (0.70, 0.0),
    "backlash_y": (0.0, 1.20),
}


@dataclass(frozen=True)
class BacklashStateModel(_Base):
    """The seed's v1 truth table as a per-axis backlash state machine."""

    name: str = "backlash-state"
    default_preset: str = "neutral"

    def presets(self) -> tuple[str, ...]:
        return ("neutral", "seed-v1")

    def new_profile(self, preset: str, *, microscope: str = "default", objective: str = "default") -> Profile:
        self._check_preset(preset)
        if preset == "neutral":
            return Profile(model=self.name, microscope=microscope, objective=objective, preset=preset,
                           settings=dict(DEFAULT_SETTINGS))
        return Profile(
            model=self.name, microscope=microscope, objective=objective, preset=preset, pixel_size_um=0.345,
            affine=Affine(scale_x=1.0326, scale_y=1.0326, skew_xy=0.0066, skew_yx=0.0066),
            offsets=_preset_offsets(SEED_V1_OFFSETS), settings=dict(DEFAULT_SETTINGS),
        )

    def terms(self, moves: Sequence[Move], profile: Profile, *, for_learning: bool) -> list[list[Term]]:
        result: list[list[Term]] = []
        for move in moves:
            tile: list[Term] = []
            if move.is_start:
                result.append(tile)
                continue
            long_diag = move.is_long and move.dir_x != 0 and move.dir_y != 0
            if long_diag:
                tile.append(("long_diag", 1.0, 1.0))
            else:
                if move.is_long and move.dir_x:
                    tile.append(("long_right" if move.dir_x > 0 else "long_left", 1.0, 1.0))
                elif move.x_state:
                    tile.append(("right" if move.x_state > 0 else "left", 1.0, 1.0))
                if move.is_long and move.dir_y:
                    tile.append(("long_y" if move.dir_y > 0 else "long_up", 1.0, 1.0))
                elif move.y_state:
                    tile.append(("down" if move.y_state > 0 else "up", 1.0, 1.0))
            if not move.is_long:
                if move.dir_x and move.prev_x_state == -move.dir_x:
                    tile.append(("backlash_x", -float(move.dir_x), 0.0))
                    if move.previous_was_y_only or move.dir_y:
                        tile.append(("reversal", -float(move.dir_x), 0.0))
                if move.dir_y and move.prev_y_state == -move.dir_y:
                    tile.append(("backlash_y", 0.0, -float(move.dir_y)))
            if move.first_down:
                entry = profile.usable_offset("first_down")
                c = 1.0 if for_learning else (entry.confidence if entry is not None else 0.0)
                if c > 0:
                    tile.append(("first_down", c, c))
            result.append(tile)
        return result

    def codes(self, moves: Sequence[Move], profile: Profile) -> list[str]:
        return [state_code(move) for move in moves]

    def first_down_confidence(self, profile: Profile) -> float:
        entry = profile.offsets.get("first_down")
        return entry.confidence if entry is not None and entry.evidence > 0 else 0.0


MODELS: dict[str, _Base] = {"lut-affine": LutAffineModel(), "backlash-state": BacklashStateModel()}


def get_model(name: str) -> _Base:
    """The model called ``name``."""
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r} (models: {', '.join(MODELS)})") from None
