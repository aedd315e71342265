"""scopeweave-4dstem: cluster-guided virtual detectors and polarisation maps from 4D-STEM data."""

__version__ = "0.1.0"
