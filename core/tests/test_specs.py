import attrs
import pytest

from scopeweave import CameraSpec, FrameMetricSpec, NoParams, Role, WorkflowSpec
from scopeweave.specs import KINDS, spec_class_for_kind


@attrs.frozen(kw_only=True)
class Frozen:
    exposure_ms: float = 1.0


@attrs.define(kw_only=True)
class Mutable:
    exposure_ms: float = 1.0


def _factory(params, uses):
    return object()


@pytest.mark.parametrize("name", ["sim", "sim-z", "a_b", "x9"])
def test_valid_names(name: str) -> None:
    assert CameraSpec(name=name, summary="s", factory=_factory).name == name


@pytest.mark.parametrize("name", ["", "Sim", "-x", "has space", "ünï", "a.b"])
def test_invalid_names_name_the_field(name: str) -> None:
    with pytest.raises(ValueError, match="'name' must match"):
        CameraSpec(name=name, summary="s", factory=_factory)


def test_params_type_must_be_a_frozen_attrs_class() -> None:
    with pytest.raises(TypeError, match="frozen attrs class .*Mutable"):
        CameraSpec(name="c", summary="s", factory=_factory, params_type=Mutable)
    with pytest.raises(TypeError, match="must be an attrs class"):
        CameraSpec(name="c", summary="s", factory=_factory, params_type=dict)
    assert CameraSpec(name="c", summary="s", factory=_factory).params_type is NoParams


def test_factory_must_be_callable() -> None:
    with pytest.raises(TypeError, match="callable"):
        CameraSpec(name="c", summary="s", factory="not callable")  # type: ignore[arg-type]


def test_roles_are_checked_and_frozen() -> None:
    spec = WorkflowSpec(name="w", summary="s", factory=_factory, uses={"camera": Role(kind="camera")})
    with pytest.raises(TypeError):
        spec.uses["x"] = Role(kind="stage")  # type: ignore[index]
    with pytest.raises(ValueError, match="'kind' must be one of"):
        Role(kind="microscope")
    with pytest.raises(TypeError, match="must be a Role"):
        WorkflowSpec(name="w", summary="s", factory=_factory, uses={"camera": "camera"})  # type: ignore[dict-item]


def test_build_checks_the_params_type() -> None:
    spec = FrameMetricSpec(name="m", summary="s", factory=lambda p, u: p.exposure_ms, params_type=Frozen)
    assert spec.build(Frozen(exposure_ms=3.0), {}) == 3.0
    with pytest.raises(TypeError, match="params must be Frozen"):
        spec.build(NoParams(), {})


def test_every_kind_has_a_spec_class() -> None:
    assert [spec_class_for_kind(kind).kind for kind in KINDS] == list(KINDS)
    with pytest.raises(ValueError, match="kind must be one of"):
        spec_class_for_kind("laser")
