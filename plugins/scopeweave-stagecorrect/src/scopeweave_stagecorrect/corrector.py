"""The StageCorrector components ``lut-affine`` and ``backlash-state``: a model bound to a stored profile."""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import attrs

from scopeweave.errors import ScopeweaveError
from scopeweave_stagecorrect.pure.engine import correction_debug, learn, predict, status_message
from scopeweave_stagecorrect.pure.models import get_model
from scopeweave_stagecorrect.pure.profile import THERMAL_STATES, Profile
from scopeweave_stagecorrect.store import ProfileKey, ProfileStore

__all__ = ["BacklashStateParams", "LearningError", "LutAffineParams", "StoredCorrector"]


class LearningError(ScopeweaveError, ValueError):
    """Learning was given unusable data (lengths, confidences, too few tiles)."""


def _in_unit_interval(open_low: bool) -> Any:
    def check(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
        low_ok = value > 0 if open_low else value >= 0
        if not (low_ok and value <= 1):
            interval = "(0, 1]" if open_low else "[0, 1]"
            raise ValueError(f"'{attribute.name}' must lie in {interval} (got {value!r}).")
    return check


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:
        raise ValueError(f"'{attribute.name}' must be > 0 (got {value!r}).")


def _non_negative(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"'{attribute.name}' must be >= 0 (got {value!r}).")


def _label(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value or any(c in value for c in "/\\") or value != value.strip():
        raise ValueError(f"'{attribute.name}' must be a non-empty name without '/' (got {value!r}).")


def _one_of(*choices: str) -> Any:
    def check(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
        if value not in choices:
            raise ValueError(f"'{attribute.name}' must be one of {', '.join(map(repr, choices))} (got {value!r}).")
    return check


@attrs.frozen(kw_only=True)
class CorrectorParams:
    """Parameters every learned stage corrector takes.

    Attributes
    ----------
    settings_path
        Settings JSON holding the profiles: '' for the default
        (``$SCOPEWEAVE_STAGECORRECT_SETTINGS`` or ``~/.config/scopeweave/stagecorrect.json``),
        ':memory:' to keep nothing, or a file path.
    microscope, objective
        The profile's key: one profile per microscope, objective and model.
    learning_rate
        Steady-state weight of a new session in the moving average, in (0, 1].
    confidence_step
        Confidence an offset gains per session that sees it with full weight.
    thermal_state
        'cold', 'preheated' or 'unknown' (treated as cold): which drift terms apply.
    learn_thermal
        Learn the drift rate and decay (else keep them).
    move_tolerance_px
        Displacements up to this size count as no move on that axis.
    lock_timeout_s
        How long to wait for another process holding the settings lock.
    """

    settings_path: str = ""
    microscope: str = attrs.field(default="default", validator=_label)
    objective: str = attrs.field(default="default", validator=_label)
    learning_rate: float = attrs.field(default=0.3, validator=_in_unit_interval(open_low=True))
    confidence_step: float = attrs.field(default=0.25, validator=_in_unit_interval(open_low=False))
    thermal_state: str = attrs.field(default="unknown", validator=_one_of(*THERMAL_STATES))
    learn_thermal: bool = True
    move_tolerance_px: float = attrs.field(default=0.5, validator=_non_negative)
    lock_timeout_s: float = attrs.field(default=30.0, validator=_positive)


@attrs.frozen(kw_only=True)
class LutAffineParams(CorrectorParams):
    """Parameters of the ``lut-affine`` stage corrector (the seed's v2.0 model).

    Attributes
    ----------
    preset
        Starting values of a new profile: 'seed-v2-251' (the seed's 251-tile
        calibration) or 'identity'.
    confidence_step
        Confidence an offset gains per session that sees it with full weight
        (first-move offsets are blended by it).
    sweep_limit_px
        ``|dx|`` above which a move is a sweep (the seed's rapid-move bit).
    idle_axis
        'literal': the seed's mask bits from this move's displacement;
        'hold': an axis that did not move keeps its last direction (the
        backlash state).  Reset the profile after changing it.
    """

    preset: str = attrs.field(default="seed-v2-251", validator=_one_of("seed-v2-251", "identity"))
    sweep_limit_px: float = attrs.field(default=500.0, validator=_positive)
    idle_axis: str = attrs.field(default="literal", validator=_one_of("literal", "hold"))


@attrs.frozen(kw_only=True)
class BacklashStateParams(CorrectorParams):
    """Parameters of the ``backlash-state`` stage corrector (the seed's v1 truth table).

    Attributes
    ----------
    preset
        Starting values of a new profile: 'neutral' (no correction) or
        'seed-v1' (the seed's v1 values, which it found nearly worse than none).
    confidence_step
        Confidence an offset gains per session that sees it with full weight
        (the first-down offset is scaled by it).
    long_move_factor
        A move longer than this many tile steps on an axis is a long move
        (rapids: reduced backlash).
    """

    preset: str = attrs.field(default="neutral", validator=_one_of("neutral", "seed-v1"))
    long_move_factor: float = attrs.field(default=2.0, validator=_positive)


class StoredCorrector:
    """A correction model bound to one stored profile (a :class:`~scopeweave.kinds.StageCorrector`).

    Every call reads the profile afresh; :meth:`learn` and :meth:`reset` are
    locked read-modify-writes of the settings file.
    """

    def __init__(self, model: str, params: LutAffineParams | BacklashStateParams,
                 store: ProfileStore | None = None) -> None:
        self.model = get_model(model)
        self.params = params
        self.store = store if store is not None else ProfileStore.from_setting(
            params.settings_path, lock_timeout_s=params.lock_timeout_s)
        self.key = ProfileKey(params.microscope, params.objective, model)

    # -- profile --------------------------------------------------------------------------------

    def _settings(self) -> dict[str, Any]:
        p = self.params
        settings: dict[str, Any] = {"move_tolerance_px": p.move_tolerance_px}
        if isinstance(p, LutAffineParams):
            settings.update(sweep_limit_px=p.sweep_limit_px, idle_axis=p.idle_axis)
        else:
            settings.update(long_move_factor=p.long_move_factor)
        return settings

    def _fresh(self) -> Profile:
        return self.model.new_profile(self.params.preset, microscope=self.key.microscope, objective=self.key.objective)

    def _configured(self, profile: Profile | None) -> Profile:
        base = profile if profile is not None else self._fresh()
        return replace(base, settings={**base.settings, **self._settings()})

    def profile(self) -> Profile:
        """The current profile (stored, or a fresh one from the preset), with this component's settings."""
        return self._configured(self.store.load(self.key))

    # -- the StageCorrector interface -------------------------------------------------------------

    def correct(self, metadata_px: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
        """Corrected ``(x, y)`` positions (px) for metadata positions in acquisition order."""
        try:
            return predict(self.profile(), [(float(x), float(y)) for x, y in metadata_px],
                           thermal_state=self.params.thermal_state)
        except ValueError as exc:
            raise LearningError(f"cannot correct these positions: {exc}") from None

    def learn(
        self,
        metadata_px: Sequence[tuple[float, float]],
        registered_px: Sequence[tuple[float, float]],
        confidence: Sequence[float],
    ) -> Mapping[str, Any]:
        """Update the stored profile from registered positions; returns the learning report."""
        metadata = [(float(x), float(y)) for x, y in metadata_px]
        registered = [(float(x), float(y)) for x, y in registered_px]
        weights = [float(c) for c in confidence]
        now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        report: dict[str, Any] = {}

        def change(current: Profile | None) -> Profile:
            try:
                updated, result = learn(
                    self._configured(current), metadata, registered, weights,
                    learning_rate=self.params.learning_rate, confidence_step=self.params.confidence_step,
                    thermal_state=self.params.thermal_state, learn_thermal=self.params.learn_thermal, now=now,
                )
            except ValueError as exc:
                raise LearningError(f"cannot learn from this session: {exc}") from None
            report.update(result)
            return updated

        profile = self.store.update(self.key, change)
        report["profile"] = profile.to_dict()
        report["settings_file"] = self.store.description
        report["key"] = str(self.key)
        return report

    def status(self) -> str:
        """The seed's status line for the current profile."""
        return status_message(self.profile())

    def reset(self) -> None:
        """Forget everything learned: the profile starts again from the preset."""
        self.store.update(self.key, lambda current: self._configured(None))

    # -- helpers for the workflows -----------------------------------------------------------------

    def debug(self, metadata_px: Sequence[tuple[float, float]]) -> str:
        """The seed's debug output (grid layout, state sequence, model codes) for a scan."""
        return correction_debug(self.profile(), [(float(x), float(y)) for x, y in metadata_px])

    def suggested_search_radius_px(self, fallback_px: float) -> float:
        """Registration search radius for corrected priors: from the last residual, else ``fallback_px``.

        ``2 * residual_max + 2`` px (MIST searches ``2r + 1`` around its model),
        at least 4 px, at most ``fallback_px``.
        """
        profile = self.profile()
        residual = profile.residual_max_px
        if profile.num_sessions == 0 or residual is None or not math.isfinite(residual):
            return float(fallback_px)
        return float(min(fallback_px, max(4.0, math.ceil(2.0 * residual + 2.0))))
