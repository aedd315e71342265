"""Entry-point module of scopeweave-mcl (imports no vendor library)."""

from __future__ import annotations

from collections.abc import Iterable

from scopeweave import StageSpec, hookimpl
from scopeweave_mcl.stage import NanoDriveParams, NanoDriveStage


@hookimpl
def scopeweave_stages() -> Iterable[StageSpec]:
    return [
        StageSpec(
            name="mcl",
            summary="Mad City Labs Nano-Drive piezo Z stage through the Madlib library (ctypes), a wrapper module, "
            "or an in-memory simulation on request.",
            params_type=NanoDriveParams,
            factory=lambda params, uses: NanoDriveStage(params),
        )
    ]
