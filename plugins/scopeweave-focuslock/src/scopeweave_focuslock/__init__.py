"""Astigmatic focus lock: elliptical PSF fits, focus models, calibration sweep, closed-loop Z lock."""
