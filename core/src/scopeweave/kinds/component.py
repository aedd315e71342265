"""Lifecycle shared by hardware components (cameras, stages)."""

from __future__ import annotations

import abc
from types import TracebackType
from typing import Self

__all__ = ["Component"]


class Component(abc.ABC):
    """A device with a lifecycle: ``initialize`` before use, ``shutdown`` after.

    Both are idempotent.  Subclasses implement :meth:`_do_initialize` and
    :meth:`_do_shutdown`; ``shutdown`` must leave the hardware safe (stop
    acquisition, stop motion) and must not raise for a device that never
    finished initialising.  A component is also a context manager.
    """

    _initialized: bool = False

    @property
    def initialized(self) -> bool:
        """Whether :meth:`initialize` has completed and :meth:`shutdown` has not run."""
        return self._initialized

    def initialize(self) -> None:
        """Open the device; calling it again does nothing."""
        if not self._initialized:
            self._do_initialize()
            self._initialized = True

    def shutdown(self) -> None:
        """Close the device and leave it safe; calling it again does nothing."""
        if self._initialized:
            self._initialized = False
            self._do_shutdown()

    def _require_initialized(self) -> None:
        if not self._initialized:
            raise RuntimeError(f"{type(self).__name__} is not initialized; call initialize() first.")

    def _do_initialize(self) -> None:
        """Open the device (override when there is something to open)."""

    def _do_shutdown(self) -> None:
        """Close the device (override when there is something to close)."""

    def __enter__(self) -> Self:
        self.initialize()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()
