import pytest

from scopeweave.errors import PluginError, PluginLoadError, UnknownComponentError
from scopeweave.registry import BLOCK_ENV, PluginWarning, Registry

GOOD = '''
import attrs
from scopeweave import FrameMetricSpec, hookimpl

class Mean:
    higher_is_sharper = True
    def __call__(self, frame):
        return float(frame.mean())

@hookimpl
def scopeweave_frame_metrics():
    return [FrameMetricSpec(name="mean", summary="mean intensity", factory=lambda p, u: Mean())]
'''

RAISES_IN_HOOK = '''
from scopeweave import hookimpl

@hookimpl
def scopeweave_frame_metrics():
    raise RuntimeError("hook exploded")
'''

WRONG_RECORD = '''
from scopeweave import CameraSpec, hookimpl

@hookimpl
def scopeweave_frame_metrics():
    return [CameraSpec(name="oops", summary="a camera in the metric hook", factory=lambda p, u: None)]
'''

MISSPELLED_HOOK = '''
from scopeweave import hookimpl

@hookimpl
def scopeweave_camera():
    return []
'''


def _registry(**kwargs) -> Registry:
    return Registry(strict=kwargs.pop("strict", False), blocked=kwargs.pop("blocked", ()))


def test_good_plugin_is_listed_with_its_distribution(make_distribution) -> None:
    eps = make_distribution("scopeweave-good", version="2.3", entry_points={"good": "sw_good"}, modules={"sw_good": GOOD})
    registry = _registry()
    registry.load_entry_points(eps)
    (info,) = registry.plugins()
    assert (info.name, info.distribution, info.version, info.status) == ("good", "scopeweave-good", "2.3", "active")
    assert info.provides == {"frame_metric": ("mean",)}
    assert registry.distribution_of("frame_metric", "mean") == ("scopeweave-good", "2.3")


def test_import_failure_is_isolated(make_distribution) -> None:
    eps = make_distribution("scopeweave-broken", entry_points={"broken": "sw_missing_module"}, modules={})
    eps += make_distribution("scopeweave-good", entry_points={"good": "sw_good"}, modules={"sw_good": GOOD})
    registry = _registry()
    with pytest.warns(PluginWarning, match="'broken'.*failed to import: ModuleNotFoundError"):
        registry.load_entry_points(eps)
    statuses = {info.name: (info.status, info.reason) for info in registry.plugins()}
    assert statuses["good"][0] == "active"
    assert statuses["broken"][0] == "broken"
    assert "ModuleNotFoundError" in statuses["broken"][1]
    assert list(registry.specs("frame_metric")) == ["mean"]


def test_import_failure_is_an_error_in_strict_mode(make_distribution) -> None:
    eps = make_distribution("scopeweave-broken", entry_points={"broken": "sw_missing_module"}, modules={})
    with pytest.raises(PluginLoadError, match="'broken' \\(scopeweave-broken 1.0\\) failed to import"):
        _registry(strict=True).load_entry_points(eps)


def test_hook_that_raises_is_isolated(make_distribution) -> None:
    eps = make_distribution("scopeweave-raiser", entry_points={"raiser": "sw_raiser"}, modules={"sw_raiser": RAISES_IN_HOOK})
    eps += make_distribution("scopeweave-good", entry_points={"good": "sw_good"}, modules={"sw_good": GOOD})
    registry = _registry()
    registry.load_entry_points(eps)
    with pytest.warns(PluginWarning, match="hook exploded"):
        assert list(registry.specs("frame_metric")) == ["mean"]
    statuses = {info.name: info.status for info in registry.plugins()}
    assert statuses == {"good": "active", "raiser": "broken"}


def test_hook_that_raises_is_an_error_in_strict_mode(make_distribution) -> None:
    eps = make_distribution("scopeweave-raiser", entry_points={"raiser": "sw_raiser"}, modules={"sw_raiser": RAISES_IN_HOOK})
    registry = _registry(strict=True)
    registry.load_entry_points(eps)
    with pytest.raises(PluginLoadError, match="scopeweave_frame_metrics raised RuntimeError: hook exploded"):
        registry.specs("frame_metric")


def test_record_of_the_wrong_kind_breaks_the_plugin(make_distribution) -> None:
    eps = make_distribution("scopeweave-wrong", entry_points={"wrong": "sw_wrong"}, modules={"sw_wrong": WRONG_RECORD})
    registry = _registry(strict=True)
    registry.load_entry_points(eps)
    with pytest.raises(PluginLoadError, match="expected FrameMetricSpec"):
        registry.specs("camera")


def test_misspelled_hook_is_reported(make_distribution) -> None:
    eps = make_distribution("scopeweave-typo", entry_points={"typo": "sw_typo"}, modules={"sw_typo": MISSPELLED_HOOK})
    with pytest.raises(PluginLoadError, match="unknown hook 'scopeweave_camera'"):
        _registry(strict=True).load_entry_points(eps)


def test_duplicate_names_name_both_distributions(make_distribution) -> None:
    eps = make_distribution("scopeweave-first", entry_points={"first": "sw_good"}, modules={"sw_good": GOOD})
    eps += make_distribution("scopeweave-second", entry_points={"second": "sw_good_copy"}, modules={"sw_good_copy": GOOD})
    strict = _registry(strict=True)
    strict.load_entry_points(eps)
    with pytest.raises(PluginError, match="'mean' is registered by both distribution 'scopeweave-first' and distribution 'scopeweave-second'"):
        strict.specs("frame_metric")
    lenient = _registry()
    lenient.load_entry_points(eps)
    with pytest.warns(PluginWarning, match="registered by both"):
        assert "mean" not in lenient.specs("frame_metric")
    with pytest.raises(UnknownComponentError, match="scopeweave-first.*scopeweave-second"):
        lenient.get("frame_metric", "mean")


def test_block_list_by_entry_point_or_distribution(make_distribution, monkeypatch) -> None:
    eps = make_distribution("scopeweave-good", entry_points={"good": "sw_good"}, modules={"sw_good": GOOD})
    monkeypatch.setenv(BLOCK_ENV, "other, good")
    registry = Registry(strict=True)
    registry.load_entry_points(eps)
    (info,) = registry.plugins()
    assert (info.status, info.reason) == ("blocked", f"blocked by {BLOCK_ENV}")
    assert not registry.specs("frame_metric")
    by_dist = _registry(blocked=["scopeweave-good"])
    by_dist.load_entry_points(eps)
    assert by_dist.plugins()[0].status == "blocked"


def test_unknown_name_lists_installed_names_and_failures(make_distribution) -> None:
    eps = make_distribution("scopeweave-good", entry_points={"good": "sw_good"}, modules={"sw_good": GOOD})
    eps += make_distribution("scopeweave-vendor", entry_points={"vendor": "sw_vendor_sdk"}, modules={})
    registry = _registry()
    with pytest.warns(PluginWarning):
        registry.load_entry_points(eps)
    with pytest.raises(UnknownComponentError) as info:
        registry.get("frame_metric", "tenengrad")
    message = str(info.value)
    assert "no frame_metric named 'tenengrad' (available: mean)" in message
    assert "plugin 'vendor' (scopeweave-vendor 1.0) is broken: failed to import" in message
    assert "scopeweave plugins list" in message


def test_builtins_register_through_the_hooks() -> None:
    registry = _registry()
    registry.register_builtins()
    (info,) = registry.plugins()
    assert (info.name, info.distribution, info.status) == ("scopeweave", "scopeweave", "active")
    assert "acquire" in info.provides["workflow"]


def _inline_plugin():
    import types

    from scopeweave import FrameMetricSpec, hookimpl

    return types.SimpleNamespace(
        scopeweave_frame_metrics=hookimpl(lambda: [FrameMetricSpec(name="ones", summary="s", factory=lambda p, u: None)])
    )


def test_register_and_unregister(empty_registry) -> None:
    plugin = _inline_plugin()
    empty_registry.register(plugin, name="inline")
    assert list(empty_registry.specs("frame_metric")) == ["ones"]
    with pytest.raises(PluginError, match="already registered"):
        empty_registry.register(plugin, name="inline")
    empty_registry.unregister("inline")
    assert not empty_registry.specs("frame_metric")


def test_register_plugin_fixture_registers_for_one_test(register_plugin, scopeweave_registry) -> None:
    register_plugin(_inline_plugin(), name="inline")
    assert "ones" in scopeweave_registry.specs("frame_metric")


def test_installed_distributions_are_discovered(scopeweave_registry) -> None:
    names = {info.name: info for info in scopeweave_registry.plugins()}
    assert {"scopeweave", "sim", "example-metric"} <= set(names)
    assert all(info.status == "active" for info in names.values())
    assert "sim-astigmatic" in scopeweave_registry.specs("camera")
