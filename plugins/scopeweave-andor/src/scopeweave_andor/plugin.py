"""Entry-point module of scopeweave-andor (imports neither pylablib nor Andor SDK3)."""

from __future__ import annotations

from collections.abc import Iterable

from scopeweave import CameraSpec, hookimpl
from scopeweave_andor.camera import AndorCamera, AndorParams


@hookimpl
def scopeweave_cameras() -> Iterable[CameraSpec]:
    return [
        CameraSpec(
            name="andor",
            summary="Andor sCMOS (SDK3: Zyla, Neo, Sona, Marana) through pylablib: exposure, AOI, binning, trigger "
            "modes, snap and ring-buffer sequences with hardware frame timestamps.",
            params_type=AndorParams,
            factory=lambda params, uses: AndorCamera(params),
        )
    ]
