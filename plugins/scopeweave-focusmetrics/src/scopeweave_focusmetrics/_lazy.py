"""Deferred import of the numba kernels, so importing the plugin module stays cheap."""

from __future__ import annotations

from types import ModuleType

__all__ = ["kernels"]


def kernels() -> ModuleType:
    """The compiled-kernel module :mod:`scopeweave_focusmetrics._kernels` (imported on first use)."""
    from scopeweave_focusmetrics import _kernels

    return _kernels
