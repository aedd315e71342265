"""scopeweave-stagecorrect: stage-metadata correction learned from stitching results."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("scopeweave-stagecorrect")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = ["__version__"]
