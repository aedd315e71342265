"""The Workflow interface: what a session runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from scopeweave.runs import RunContext

__all__ = ["Workflow"]


@runtime_checkable
class Workflow(Protocol):
    """Runs once per session; writes its products into ``context.run_dir``.

    The returned mapping is stored as ``results`` in ``report.json``.
    """

    def run(self, context: RunContext) -> Mapping[str, Any]:
        """Do the work."""
        ...
