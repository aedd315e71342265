"""Applying a profile, and learning it from registered positions (standard library only).

Learning (one session)
----------------------
1. Classify the metadata scan and list each tile's offset terms.
2. Fit, per axis, ``registered = M row . (meta - meta[0]) + offsets + drift * tau(i) + t``
   by confidence-weighted least squares (``t``: the unknown translation
   between the metadata and registered frames).  Scale and skew come from this
   regression, as ASHLAR fits an affine from metadata to registered positions;
   the offsets are the confidence-weighted errors per movement class.  When
   thermal learning is on, the drift decay is chosen from a few candidates by
   the weighted residual.  Parameters the session cannot determine keep their
   previous values.
3. Blend each group (the matrix, the drift, every offset) into the profile
   with a confidence-weighted exponential moving average: with ``W`` the summed
   tile confidences of the group in this session and ``E`` its evidence,
   ``E' = (1 - learning_rate) E + W`` and ``value' = value + (W / E') (estimate - value)``.
   A group never learned on this microscope (``E = 0``) takes the estimate;
   afterwards each session counts with weight ``learning_rate`` in steady
   state, and a session of low-confidence tiles moves the values less.
4. Offset confidences build by ``confidence_step * min(1, W)`` per session
   (the seed's first-down confidence building).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from scopeweave_stagecorrect.pure.matrix import apply_2d_transform, ridge_lstsq
from scopeweave_stagecorrect.pure.models import DEFAULT_SETTINGS, Term, get_model
from scopeweave_stagecorrect.pure.movement import debug_report
from scopeweave_stagecorrect.pure.profile import Affine, Offset, Profile, Thermal, thermal_tau

__all__ = [
    "HISTORY_LENGTH",
    "correction_debug",
    "learn",
    "predict",
    "residual_stats",
    "status_message",
]

HISTORY_LENGTH = 50
_DECAY_CANDIDATES = (0.8, 0.9, 0.95, 0.98, 1.0)


def _check_positions(name: str, positions: Sequence[tuple[float, float]]) -> None:
    for i, point in enumerate(positions):
        if len(point) != 2 or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in point):
            raise ValueError(f"{name}[{i}] must be a finite (x, y) pair, got {point!r}")


def predict(
    profile: Profile, positions_px: Sequence[tuple[float, float]], *, thermal_state: str = "unknown"
) -> list[tuple[float, float]]:
    """Corrected ``(x, y)`` positions for metadata positions in acquisition order.

    The first tile keeps its metadata position; the others are placed relative to it.
    """
    _check_positions("positions_px", positions_px)
    if not positions_px:
        return []
    model = get_model(profile.model)
    moves = model.classify(positions_px, profile)
    terms = model.terms(moves, profile, for_learning=False)
    thermal = profile.thermal_for(thermal_state)
    a = profile.affine
    x0, y0 = positions_px[0]
    corrected = []
    for i, (x, y) in enumerate(positions_px):
        px, py = apply_2d_transform(x - x0, y - y0, scale_x=a.scale_x, scale_y=a.scale_y,
                                    skew_xy=a.skew_xy, skew_yx=a.skew_yx)
        for key, cx, cy in terms[i]:
            offset = profile.usable_offset(key)
            if offset is None:  # a state never seen on this microscope: no offset
                continue
            px += cx * offset.x_px
            py += cy * offset.y_px
        tx, ty = thermal.offset_px(i)
        corrected.append((x0 + px + tx, y0 + py + ty))
    return corrected


def correction_debug(profile: Profile, positions_px: Sequence[tuple[float, float]]) -> str:
    """The seed's debug output for a scan: grid layout, state sequence and the model's codes."""
    model = get_model(profile.model)
    moves = model.classify(positions_px, profile)
    title = "LUT MASKS" if profile.model == "lut-affine" else "STATE CODES"
    return debug_report(positions_px, moves, codes=model.codes(moves, profile), codes_title=title)


def residual_stats(
    predicted: Sequence[tuple[float, float]],
    registered: Sequence[tuple[float, float]],
    weights: Sequence[float],
) -> tuple[float, float]:
    """Weighted RMS and max distance after removing the weighted mean offset (tiles with weight > 0)."""
    used = [(p, r, w) for p, r, w in zip(predicted, registered, weights, strict=False) if w > 0]
    if not used:
        return math.nan, math.nan
    total = sum(w for _, _, w in used)
    mx = sum(w * (r[0] - p[0]) for p, r, w in used) / total
    my = sum(w * (r[1] - p[1]) for p, r, w in used) / total
    d2 = [((r[0] - p[0] - mx) ** 2 + (r[1] - p[1] - my) ** 2, w) for p, r, w in used]
    rms = math.sqrt(sum(d * w for d, w in d2) / total)
    return rms, math.sqrt(max(d for d, _ in d2))


def _fit_axis(
    axis: int,
    profile: Profile,
    rel: Sequence[tuple[float, float]],
    registered: Sequence[tuple[float, float]],
    weights: Sequence[float],
    terms: Sequence[Sequence[Term]],
    taus: Sequence[float],
    drift_prior: float,
    learn_drift: bool,
) -> tuple[dict[str, float], float]:
    """Fit one axis; returns the estimates by parameter name and the weighted residual sum of squares."""
    a = profile.affine
    matrix_prior = (a.scale_x, -a.skew_xy) if axis == 0 else (a.skew_yx, a.scale_y)
    keys = sorted({key for tile in terms for key, cx, cy in tile if (cx if axis == 0 else cy) != 0.0})
    names = ["m0", "m1", "drift", "t", *keys]
    index = {name: j for j, name in enumerate(names)}
    prior = [matrix_prior[0], matrix_prior[1], drift_prior, 0.0]
    prior += [getattr(profile.offsets[k], "x_px" if axis == 0 else "y_px") if k in profile.offsets else 0.0
              for k in keys]
    rows: list[dict[int, float]] = []
    targets: list[float] = []
    for i, (dx, dy) in enumerate(rel):
        row = {0: dx, 1: dy, 3: 1.0}
        target = registered[i][axis]
        if learn_drift:
            row[2] = taus[i]
        else:
            target -= drift_prior * taus[i]
        for key, cx, cy in terms[i]:
            coef = cx if axis == 0 else cy
            if coef != 0.0:
                row[index[key]] = row.get(index[key], 0.0) + coef
        rows.append(row)
        targets.append(target)
    # Prior for the translation: the weighted mean misfit of the prior model.
    total = sum(weights)
    prior[3] = sum(
        w * (t - sum(c * prior[j] for j, c in row.items() if j != 3)) for row, t, w in zip(rows, targets, weights, strict=False)
    ) / total
    theta, _ = ridge_lstsq(rows, targets, weights, prior)
    ssr = sum(w * (t - sum(c * theta[j] for j, c in row.items())) ** 2 for row, t, w in zip(rows, targets, weights, strict=False))
    return {name: theta[j] for name, j in index.items()}, ssr


def learn(
    profile: Profile,
    metadata_px: Sequence[tuple[float, float]],
    registered_px: Sequence[tuple[float, float]],
    confidence: Sequence[float],
    *,
    learning_rate: float = 0.3,
    confidence_step: float = 0.25,
    thermal_state: str = "unknown",
    learn_thermal: bool = True,
    now: str = "",
) -> tuple[Profile, dict[str, Any]]:
    """Learn from one registered scan; returns the updated profile and a report.

    Parameters
    ----------
    profile
        The current profile.
    metadata_px, registered_px
        Metadata and registered ``(x, y)`` positions of the same tiles, in
        acquisition order.  The registered frame may be shifted arbitrarily.
    confidence
        Per-tile registration confidence in ``[0, 1]``; 0 ignores a tile.
    learning_rate
        Steady-state weight of a new session, in ``(0, 1]``.
    confidence_step
        Confidence an offset gains per session that observes it with full weight.
    thermal_state
        ``cold``, ``preheated`` or ``unknown`` (learned as cold).
    learn_thermal
        Also fit the drift rate and its decay.
    now
        Timestamp recorded as ``last_updated``.

    Raises
    ------
    ValueError
        For mismatched lengths, non-finite values, confidences outside [0, 1],
        a bad learning rate, or fewer than 3 tiles with confidence > 0.
    """
    n = len(metadata_px)
    if len(registered_px) != n or len(confidence) != n:
        raise ValueError(
            f"metadata ({n}), registered ({len(registered_px)}) and confidence ({len(confidence)}) "
            "must have one entry per tile"
        )
    _check_positions("metadata_px", metadata_px)
    _check_positions("registered_px", registered_px)
    for i, c in enumerate(confidence):
        if not (isinstance(c, (int, float)) and 0.0 <= c <= 1.0):
            raise ValueError(f"confidence[{i}] must lie in [0, 1], got {c!r}")
    if not 0.0 < learning_rate <= 1.0:
        raise ValueError(f"learning_rate must lie in (0, 1], got {learning_rate}")
    if not 0.0 <= confidence_step <= 1.0:
        raise ValueError(f"confidence_step must lie in [0, 1], got {confidence_step}")
    weights = [float(c) for c in confidence]
    if sum(1 for w in weights if w > 0) < 3:
        raise ValueError("learning needs at least 3 tiles with confidence > 0")

    model = get_model(profile.model)
    moves = model.classify(metadata_px, profile)
    terms = model.terms(moves, profile, for_learning=True)
    x0, y0 = metadata_px[0]
    rel = [(x - x0, y - y0) for x, y in metadata_px]
    thermal = profile.thermal_for(thermal_state)
    decays = sorted({*_DECAY_CANDIDATES, thermal.decay_per_tile}) if learn_thermal else [thermal.decay_per_tile]
    best: tuple[float, float, dict[str, float], dict[str, float]] | None = None
    for decay in decays:
        taus = [thermal_tau(i, decay) for i in range(n)]
        fx, ssr_x = _fit_axis(0, profile, rel, registered_px, weights, terms, taus,
                              thermal.drift_x_px_per_tile, learn_thermal)
        fy, ssr_y = _fit_axis(1, profile, rel, registered_px, weights, terms, taus,
                              thermal.drift_y_px_per_tile, learn_thermal)
        if best is None or ssr_x + ssr_y < best[0] - 1e-9 * (1.0 + best[0]):
            best = (ssr_x + ssr_y, decay, fx, fy)
    assert best is not None
    _, decay, fx, fy = best

    w_all = sum(weights)
    lr = learning_rate

    def blend(old: float, new: float, evidence: float, weight: float) -> tuple[float, float]:
        updated_evidence = (1.0 - lr) * evidence + weight
        rate = weight / updated_evidence if updated_evidence > 0 else 0.0
        return old + rate * (new - old), updated_evidence

    a = profile.affine
    scale_x, ev = blend(a.scale_x, fx["m0"], a.evidence, w_all)
    skew_xy, _ = blend(a.skew_xy, -fx["m1"], a.evidence, w_all)
    skew_yx, _ = blend(a.skew_yx, fy["m0"], a.evidence, w_all)
    scale_y, _ = blend(a.scale_y, fy["m1"], a.evidence, w_all)
    affine = Affine(scale_x=scale_x, scale_y=scale_y, skew_xy=skew_xy, skew_yx=skew_yx, evidence=ev)

    new_thermal = thermal
    if learn_thermal:
        drift_x, ev_t = blend(thermal.drift_x_px_per_tile, fx["drift"], thermal.evidence, w_all)
        drift_y, _ = blend(thermal.drift_y_px_per_tile, fy["drift"], thermal.evidence, w_all)
        decay_new, _ = blend(thermal.decay_per_tile, decay, thermal.evidence, w_all)
        new_thermal = Thermal(drift_x_px_per_tile=drift_x, drift_y_px_per_tile=drift_y,
                              decay_per_tile=min(1.0, max(1e-6, decay_new)), evidence=ev_t)

    class_weight: dict[str, float] = {}
    class_count: dict[str, int] = {}
    for tile, w in zip(terms, weights, strict=False):
        for key in {key for key, _, _ in tile}:
            class_weight[key] = class_weight.get(key, 0.0) + w
            class_count[key] = class_count.get(key, 0) + (1 if w > 0 else 0)
    offsets = dict(profile.offsets)
    classes: dict[str, Any] = {}
    for key, weight in sorted(class_weight.items()):
        if weight <= 0:
            continue
        old = offsets.get(key, Offset())
        est_x = fx.get(key, old.x_px)
        est_y = fy.get(key, old.y_px)
        new_x, evidence = blend(old.x_px, est_x, old.evidence, weight)
        new_y, _ = blend(old.y_px, est_y, old.evidence, weight)
        base_confidence = old.confidence if old.evidence > 0 else 0.0
        offsets[key] = Offset(
            x_px=new_x, y_px=new_y, evidence=evidence,
            confidence=min(1.0, base_confidence + confidence_step * min(1.0, weight)),
            n_samples=old.n_samples + class_count[key],
        )
        classes[key] = {
            "tiles": class_count[key], "weight": weight,
            "session_estimate_px": [est_x, est_y], "old_px": [old.x_px, old.y_px], "new_px": [new_x, new_y],
            "confidence": offsets[key].confidence,
        }

    settings = {**DEFAULT_SETTINGS, **profile.settings, "learning_rate": lr, "confidence_step": confidence_step,
                "learn_thermal": learn_thermal}
    updated = replace(profile, affine=affine, offsets=offsets, settings=settings,
                      num_sessions=profile.num_sessions + 1, last_updated=now,
                      dataset_size=profile.dataset_size + sum(1 for w in weights if w > 0))
    updated = updated.with_thermal(thermal_state, new_thermal)

    before = residual_stats(metadata_px, registered_px, weights)
    prior = residual_stats(predict(profile, metadata_px, thermal_state=thermal_state), registered_px, weights)
    after = residual_stats(predict(updated, metadata_px, thermal_state=thermal_state), registered_px, weights)
    summary = {
        "session": updated.num_sessions, "date": now, "tiles": sum(1 for w in weights if w > 0),
        "metadata_rms_px": before[0], "prior_rms_px": prior[0], "corrected_rms_px": after[0],
        "corrected_max_px": after[1], "thermal_state": thermal_state,
    }
    updated = replace(updated, residual_rms_px=after[0], residual_max_px=after[1],
                      history=(*profile.history, summary)[-HISTORY_LENGTH:])
    report = {
        "model": profile.model,
        "tiles": n,
        "confident_tiles": summary["tiles"],
        "residual_rms_px": {"metadata": before[0], "previous_profile": prior[0], "updated_profile": after[0]},
        "residual_max_px": {"metadata": before[1], "previous_profile": prior[1], "updated_profile": after[1]},
        "session_estimate": {
            "scale_x": fx["m0"], "scale_y": fy["m1"], "skew_xy": -fx["m1"], "skew_yx": fy["m0"],
            "drift_px_per_tile": [fx["drift"], fy["drift"]] if learn_thermal else None,
            "decay_per_tile": decay if learn_thermal else None,
        },
        "classes": classes,
        "status": status_message(updated),
    }
    return updated, report


def status_message(profile: Profile) -> str:
    """A one-line status like the seed's ``get_correction_status_message``."""
    if profile.num_sessions == 0:
        preset = f" (preset {profile.preset!r})" if profile.preset else ""
        return f"No corrections learned yet (first run){preset}."
    confidence = get_model(profile.model).first_down_confidence(profile)
    message = (
        f"Corrections from {profile.num_sessions} session(s). "
        f"First-down confidence: {confidence * 100:.0f}%. "
        f"Last updated: {profile.last_updated[:10] or 'never'}."
    )
    if profile.residual_rms_px is not None and math.isfinite(profile.residual_rms_px):
        message += f" Residual {profile.residual_rms_px:.2f} px RMS."
    return message
