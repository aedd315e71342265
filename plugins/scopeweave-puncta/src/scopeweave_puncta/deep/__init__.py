"""The hybrid deep model of scopeweave-puncta (the ``[deep]`` extra, PyTorch).

A shared U-Net encoder feeds a DECODE-style localization decoder (per-pixel
detection probability, sub-pixel offsets, photons, background and their
uncertainties) and a calcium decoder (calcium signal at puncta).  Training
samples are simulated on the fly by :mod:`scopeweave_puncta.simulate`;
inference writes the same ``localizations.csv`` as the classical localizers.

Importing this package does not import torch; the modules that need it
(:mod:`.model`, :mod:`.losses`, :mod:`.trainer`, :mod:`.inference`, ...) do.
"""
