"""Profiles per microscope, objective and model in a settings JSON file.

The file may be shared with other settings (the seed keeps its correction
matrix in the stitcher's settings file): this module owns only the
``"stagecorrect"`` key and leaves every other key as it found it::

    {
      "last_input_dir": "...",                      # someone else's
      "stagecorrect": {
        "schema_version": 2,
        "profiles": {"<microscope>": {"<objective>": {"<model>": {...profile...}}}}
      }
    }

Older files are migrated when read: the seed's v1 block ``metadata_correction``
(backlash terms in um) becomes a ``backlash-state`` profile, and the seed's
v2.0 correction matrices (``microscope_configs``, or a block holding a
``correction_lut``) become ``lut-affine`` profiles.  The first write after a
migration keeps a copy of the original file beside it (``<name>.bak-v<N>``).

Every update is a locked read-modify-write: an exclusive file lock
(``<name>.lock``) is held while the file is re-read, the profile updated and
the file replaced atomically, so two processes learning at once lose nothing
and a crash never leaves half a file.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import attrs
import filelock

from scopeweave.atomic import atomic_path, write_json_atomic
from scopeweave.errors import ScopeweaveError
from scopeweave_stagecorrect.pure.profile import Affine, Offset, Profile, ProfileFormatError, Thermal, profile_from_dict

__all__ = [
    "MEMORY",
    "SCHEMA_VERSION",
    "SETTINGS_ENV",
    "ProfileKey",
    "ProfileStore",
    "SettingsFileError",
    "default_settings_path",
    "migrate_document",
]

SCHEMA_VERSION = 2
NAMESPACE = "stagecorrect"
#: Environment variable naming the default settings file.
SETTINGS_ENV = "SCOPEWEAVE_STAGECORRECT_SETTINGS"
#: ``settings_path`` value for a store that lives in memory only (nothing is written).
MEMORY = ":memory:"
_SEED_PIXEL_SIZE_UM = 0.345


class SettingsFileError(ScopeweaveError):
    """The settings file cannot be read, parsed, migrated or locked."""


@attrs.frozen
class ProfileKey:
    """Where a profile is stored: microscope, objective and model."""

    microscope: str
    objective: str
    model: str

    def __str__(self) -> str:
        return f"{self.microscope}/{self.objective}/{self.model}"


def default_settings_path() -> Path:
    """``$SCOPEWEAVE_STAGECORRECT_SETTINGS``, else ``$XDG_CONFIG_HOME/scopeweave/stagecorrect.json``."""
    env = os.environ.get(SETTINGS_ENV)
    if env:
        return Path(env).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(config) / "scopeweave" / "stagecorrect.json"


# ---------------------------------------------------------------------------------------------
# Migration of the seed's settings


def _num(block: Mapping[str, Any], key: str, default: float, where: str) -> float:
    value = block.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SettingsFileError(f"{where}.{key}: expected a number, got {value!r}")
    return float(value)


def _thermal_from_decaying_offset(drift_x: float, drift_y: float, decay: float) -> Thermal:
    # The seed applies an offset D * decay**i; relative to tile 0 that is -D (1 - decay**i),
    # i.e. a rate of -D (1 - decay) decaying by ``decay`` per tile.
    decay = min(max(decay, 1e-6), 1.0)
    return Thermal(drift_x_px_per_tile=-drift_x * (1.0 - decay), drift_y_px_per_tile=-drift_y * (1.0 - decay),
                   decay_per_tile=decay)


def _migrate_v0(block: Mapping[str, Any], where: str) -> Profile:
    """The seed's v1 ``metadata_correction`` block (um, ``x' = scale_x x + skew_xy y``)."""
    px = _num(block, "pixel_size_um", _SEED_PIXEL_SIZE_UM, where)
    sessions = int(_num(block, "num_sessions", 0, where))
    evidence = float(sessions)
    bx = (_num(block, "backlash_x_pos_to_neg", 0.0, where) - _num(block, "backlash_x_neg_to_pos", 0.0, where)) / 2
    by = (_num(block, "backlash_y_pos_to_neg", 0.0, where) - _num(block, "backlash_y_neg_to_pos", 0.0, where)) / 2
    first_down = _num(block, "first_down_y_offset", 0.0, where)
    confidence = min(1.0, max(0.0, _num(block, "first_down_confidence", 0.0, where)))
    thermal = _thermal_from_decaying_offset(
        _num(block, "thermal_drift_x", 0.0, where) / px, _num(block, "thermal_drift_y", 0.0, where) / px,
        _num(block, "thermal_decay_rate", 0.95, where),
    )
    thermal = replace(thermal, evidence=evidence)
    return Profile(
        model="backlash-state", preset="migrated-seed-v1", pixel_size_um=px,
        affine=Affine(
            scale_x=_num(block, "scale_x", 1.0, where), scale_y=_num(block, "scale_y", 1.0, where),
            skew_xy=-_num(block, "skew_xy", 0.0, where), skew_yx=_num(block, "skew_yx", 0.0, where),
            evidence=evidence,
        ),
        offsets={
            "backlash_x": Offset(x_px=bx / px, evidence=evidence, confidence=1.0 if sessions else 0.0),
            "backlash_y": Offset(y_px=by / px, evidence=evidence, confidence=1.0 if sessions else 0.0),
            "first_down": Offset(y_px=first_down / px, evidence=evidence, confidence=confidence),
        },
        thermal={"cold": thermal, "preheated": thermal},
        settings={"enabled": bool(block.get("enabled", True)),
                  "learning_rate": _num(block, "learning_rate", 0.3, where)},
        num_sessions=sessions, last_updated=str(block.get("last_updated", "")),
    )


def _migrate_v1(matrix: Mapping[str, Any], microscope: str, where: str) -> Profile:
    """One of the seed's v2.0 correction matrices (px LUT, ``[[scale_x, -skew_xy], [skew_yx, scale_y]]``)."""
    sessions = int(_num(matrix, "num_sessions", 0, where))
    evidence = float(sessions)
    lut = matrix.get("correction_lut", {})
    if not isinstance(lut, Mapping):
        raise SettingsFileError(f"{where}.correction_lut: expected an object, got {type(lut).__name__}")
    offsets = {}
    for mask, value in lut.items():
        if not (isinstance(value, (list, tuple)) and len(value) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
            raise SettingsFileError(f"{where}.correction_lut.{mask}: expected [x_px, y_px], got {value!r}")
        if not str(mask).isdigit() or int(mask) > 15:
            raise SettingsFileError(f"{where}.correction_lut.{mask}: masks are integers 0..15")
        offsets[str(int(mask))] = Offset(x_px=float(value[0]), y_px=float(value[1]), evidence=evidence, confidence=1.0)
    thermal = replace(_thermal_from_decaying_offset(
        _num(matrix, "thermal_drift_x", 0.0, where), _num(matrix, "thermal_drift_y", 0.0, where),
        _num(matrix, "thermal_decay_rate", 0.95, where)), evidence=evidence)
    return Profile(
        model="lut-affine", microscope=str(matrix.get("microscope_id", microscope)), preset="migrated-seed-v2",
        pixel_size_um=_num(matrix, "pixel_size_um", _SEED_PIXEL_SIZE_UM, where),
        affine=Affine(
            scale_x=_num(matrix, "scale_x", 1.0, where), scale_y=_num(matrix, "scale_y", 1.0, where),
            skew_xy=_num(matrix, "skew_xy", 0.0, where), skew_yx=_num(matrix, "skew_yx", 0.0, where),
            evidence=evidence,
        ),
        offsets=offsets, thermal={"cold": thermal, "preheated": thermal},
        settings={"sweep_limit_px": _num(matrix, "sweep_limit", 500.0, where), "idle_axis": "literal",
                  "move_tolerance_px": 0.5, "long_move_factor": 2.0},
        num_sessions=sessions, last_updated=str(matrix.get("last_updated", "")),
        dataset_size=int(_num(matrix, "dataset_size", 0, where)),
    )


def _put(profiles: dict[str, Any], profile: Profile) -> None:
    profiles.setdefault(profile.microscope, {}).setdefault(profile.objective, {})[profile.model] = profile.to_dict()


def migrate_document(data: Mapping[str, Any], *, source: str = "<settings>") -> tuple[dict[str, Any], int]:
    """Bring a settings document to the current schema.

    Returns the migrated document (other keys untouched) and the version it had
    (0: the seed's v1 block, 1: the seed's v2.0 matrices, 2: current).

    Raises
    ------
    SettingsFileError
        For a newer schema or malformed legacy values (naming the field).
    """
    doc = dict(data)
    own = doc.get(NAMESPACE)
    if own is not None:
        if not isinstance(own, Mapping):
            raise SettingsFileError(f"{source}: $.{NAMESPACE}: expected an object")
        version = own.get("schema_version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise SettingsFileError(f"{source}: $.{NAMESPACE}.schema_version: expected an integer, got {version!r}")
        if version > SCHEMA_VERSION:
            raise SettingsFileError(
                f"{source}: schema version {version} was written by a newer scopeweave-stagecorrect "
                f"(this one reads up to {SCHEMA_VERSION})"
            )
        if version < SCHEMA_VERSION:
            raise SettingsFileError(f"{source}: $.{NAMESPACE}.schema_version: unknown version {version}")
        if not isinstance(own.get("profiles", {}), Mapping):
            raise SettingsFileError(f"{source}: $.{NAMESPACE}.profiles: expected an object")
        return doc, SCHEMA_VERSION
    profiles: dict[str, Any] = {}
    version = SCHEMA_VERSION
    configs = doc.get("microscope_configs")
    if configs is not None:
        if not isinstance(configs, Mapping):
            raise SettingsFileError(f"{source}: $.microscope_configs: expected an object")
        for microscope, matrix in configs.items():
            where = f"{source}: $.microscope_configs.{microscope}"
            if not isinstance(matrix, Mapping):
                raise SettingsFileError(f"{where}: expected an object")
            _put(profiles, _migrate_v1(matrix, str(microscope), where))
        version = 1
    for key in ("correction_matrix", "metadata_correction"):
        block = doc.get(key)
        if block is None:
            continue
        where = f"{source}: $.{key}"
        if not isinstance(block, Mapping):
            raise SettingsFileError(f"{where}: expected an object")
        if "correction_lut" in block:
            _put(profiles, _migrate_v1(block, "default", where))
            version = min(version, 1)
        else:
            _put(profiles, _migrate_v0(block, where))
            version = 0
    doc[NAMESPACE] = {"schema_version": SCHEMA_VERSION, "profiles": profiles}
    return doc, version if profiles else SCHEMA_VERSION


# ---------------------------------------------------------------------------------------------
# The store


class ProfileStore:
    """Profiles in one settings file (or in memory when ``path`` is ``None``).

    Parameters
    ----------
    path
        The settings JSON file; created on the first write.  ``None``: an
        in-memory store (nothing persists).
    lock_timeout_s
        How long to wait for another process's lock before giving up.
    """

    def __init__(self, path: str | os.PathLike[str] | None, *, lock_timeout_s: float = 30.0) -> None:
        self.path = Path(path).expanduser() if path is not None else None
        self.lock_timeout_s = lock_timeout_s
        self._memory: dict[str, Any] = {}
        self._thread_lock = threading.Lock()

    @classmethod
    def from_setting(cls, value: str, *, lock_timeout_s: float = 30.0) -> ProfileStore:
        """A store from a ``settings_path`` parameter: '' (default file), ':memory:' or a path."""
        if value == MEMORY:
            return cls(None, lock_timeout_s=lock_timeout_s)
        return cls(Path(value) if value else default_settings_path(), lock_timeout_s=lock_timeout_s)

    @property
    def description(self) -> str:
        """Where the profiles live, for messages."""
        return str(self.path) if self.path is not None else "memory"

    # -- file access -----------------------------------------------------------------------------

    def _read_document(self) -> tuple[dict[str, Any], int]:
        if self.path is None:
            return json.loads(json.dumps(self._memory)) if self._memory else {}, SCHEMA_VERSION
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}, SCHEMA_VERSION
        except OSError as exc:
            raise SettingsFileError(f"{self.path}: cannot read the settings file: {exc}") from exc
        if not text.strip():
            return {}, SCHEMA_VERSION
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SettingsFileError(
                f"{self.path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg} "
                "(the file was left as it is)"
            ) from None
        if not isinstance(data, dict):
            raise SettingsFileError(f"{self.path}: expected a JSON object at the top level")
        return migrate_document(data, source=str(self.path))

    def _write_document(self, doc: Mapping[str, Any], original_version: int) -> None:
        if self.path is None:
            self._memory = json.loads(json.dumps(doc))
            return
        if original_version < SCHEMA_VERSION and self.path.exists():
            backup = self.path.with_name(f"{self.path.name}.bak-v{original_version}")
            if not backup.exists():
                with atomic_path(backup) as tmp:
                    shutil.copyfile(self.path, tmp)
        write_json_atomic(self.path, doc)

    def _lock(self) -> Any:
        if self.path is None:
            return self._thread_lock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return filelock.FileLock(str(self.path) + ".lock", timeout=self.lock_timeout_s)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        lock = self._lock()
        try:
            if self.path is None:
                lock.acquire()
            else:
                lock.acquire(timeout=self.lock_timeout_s)
        except filelock.Timeout:
            raise SettingsFileError(
                f"{self.path}: another process has held the settings lock for more than "
                f"{self.lock_timeout_s:g} s ({self.path}.lock)"
            ) from None
        try:
            yield
        finally:
            lock.release()

    @staticmethod
    def _profiles(doc: Mapping[str, Any]) -> dict[str, Any]:
        own = doc.get(NAMESPACE, {})
        return own.get("profiles", {}) if isinstance(own, Mapping) else {}

    def _profile_from(self, doc: Mapping[str, Any], key: ProfileKey) -> Profile | None:
        where = f"$.{NAMESPACE}.profiles.{key.microscope}.{key.objective}.{key.model}"
        node: Any = self._profiles(doc)
        for part in (key.microscope, key.objective, key.model):
            if not isinstance(node, Mapping):
                raise SettingsFileError(f"{self.description}: {where}: expected nested objects, found {node!r}")
            node = node.get(part)
            if node is None:
                return None
        raw = node
        try:
            profile = profile_from_dict(raw, path=where)
        except ProfileFormatError as exc:
            raise SettingsFileError(f"{self.description}: {exc}") from None
        if profile.model != key.model:
            raise SettingsFileError(f"{self.description}: {where}.model: {profile.model!r} stored under {key.model!r}")
        return profile

    # -- public API -----------------------------------------------------------------------------

    def load(self, key: ProfileKey) -> Profile | None:
        """The stored profile, or ``None`` if there is none."""
        with self._thread_lock if self.path is None else contextlib.nullcontext():
            doc, _ = self._read_document()
        return self._profile_from(doc, key)

    def update(self, key: ProfileKey, change: Callable[[Profile | None], Profile]) -> Profile:
        """Replace the profile by ``change(current)`` under the lock; returns the new profile."""
        with self._locked():
            doc, version = self._read_document()
            profile = change(self._profile_from(doc, key))
            profile = profile_from_dict(profile.to_dict())  # never write what cannot be read back
            profiles = dict(self._profiles(doc))
            by_objective = dict(profiles.get(key.microscope, {}))
            by_model = dict(by_objective.get(key.objective, {}))
            by_model[key.model] = profile.to_dict()
            by_objective[key.objective] = by_model
            profiles[key.microscope] = by_objective
            doc[NAMESPACE] = {"schema_version": SCHEMA_VERSION, "profiles": profiles}
            self._write_document(doc, version)
        return profile

    def delete(self, key: ProfileKey) -> bool:
        """Remove a profile; returns whether there was one."""
        with self._locked():
            doc, version = self._read_document()
            profiles = self._profiles(doc)
            by_model = profiles.get(key.microscope, {}).get(key.objective, {})
            if key.model not in by_model:
                return False
            del by_model[key.model]
            doc[NAMESPACE] = {"schema_version": SCHEMA_VERSION, "profiles": profiles}
            self._write_document(doc, version)
        return True

    def profile_keys(self) -> list[ProfileKey]:
        """Every stored profile's key."""
        doc, _ = self._read_document()
        return [
            ProfileKey(microscope, objective, model)
            for microscope, objectives in self._profiles(doc).items()
            for objective, models in objectives.items()
            for model in models
        ]
