"""Entry-point module of scopeweave-hamamatsu (imports neither pylablib nor DCAM-API)."""

from __future__ import annotations

from collections.abc import Iterable

from scopeweave import CameraSpec, hookimpl
from scopeweave_hamamatsu.camera import OrcaCamera, OrcaParams


@hookimpl
def scopeweave_cameras() -> Iterable[CameraSpec]:
    return [
        CameraSpec(
            name="orca",
            summary="Hamamatsu ORCA (DCAM-API) through pylablib: exposure, sub-array ROI, binning, trigger modes, "
            "snap and ring-buffer sequences with frame timestamps.",
            params_type=OrcaParams,
            factory=lambda params, uses: OrcaCamera(params),
        )
    ]
