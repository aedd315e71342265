from scopeweave.testing import RegistrationContract


class TestRegistration(RegistrationContract):
    plugin_module = "scopeweave_focusmetrics.plugin"
    forbidden_imports = ("numba", "matplotlib", "dask", "distributed", "nd2", "pywt", "sklearn", "skimage", "imageio")


def test_every_family_is_registered(scopeweave_registry) -> None:
    names = set(scopeweave_registry.specs("frame_metric"))
    required = {"laplacian-variance", "mean-abs-log", "modified-laplacian", "tenengrad", "tenengrad-variance",
                "brenner", "vollath-f4", "vollath-f5", "normalized-variance", "gray-level-variance", "wavelet-sum",
                "dct-energy-ratio", "power-log-log-slope", "blur-effect", "eigenvalues", "chebyshev-moments"}
    assert required <= names
    workflows = set(scopeweave_registry.specs("workflow"))
    assert {"frame-qc", "focus-calibration", "sharpness-autofocus"} <= workflows
