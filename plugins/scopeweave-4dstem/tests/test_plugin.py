"""Registration and the DiffractionMapper contract for both mappers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from scopeweave_4dstem.mappers import ClusterPolarMapper, GatedComMapper
from scopeweave_4dstem.params import ClusterPolarParams, ComputeParams, DpcParams, GatedComParams

from scopeweave.cli import cli
from scopeweave.registry import Registry
from scopeweave.testing import DiffractionMapperContract, RegistrationContract
from scopeweave.testing.contracts.diffraction_mapper import shifted_disk_dataset


class TestRegistration(RegistrationContract):
    plugin_module = "scopeweave_4dstem.plugin"
    forbidden_imports = ("h5py", "dask", "distributed", "matplotlib", "pyqtgraph", "skimage", "tifffile", "cupy")


class TestGatedComContract(DiffractionMapperContract):
    @pytest.fixture
    def mapper(self) -> GatedComMapper:
        return GatedComMapper(GatedComParams(scheduler="synchronous", dpc=DpcParams(gate_mode="roi", baseline="median")))

    def test_recovers_the_contract_shifts(self, mapper: GatedComMapper) -> None:
        # The contract's disks are shifted by U(-1, 1) px (seed 0); the CoM finds the shifts.
        data = shifted_disk_dataset()
        maps = mapper.map(data)
        rng = np.random.default_rng(0)
        shifts = rng.uniform(-1.0, 1.0, (5, 7, 2))
        expected_y = shifts[..., 0] - np.median(shifts[..., 0])
        # Background 1 over the detector dilutes the shift a little; the pattern must still be followed.
        assert np.corrcoef(maps["shift_y"].ravel(), expected_y.ravel())[0, 1] > 0.999


class TestClusterPolarContract(DiffractionMapperContract):
    @pytest.fixture
    def mapper(self, tmp_path: Path) -> ClusterPolarMapper:
        labels = (np.arange(35).reshape(5, 7) % 2).astype(np.int64)
        np.save(tmp_path / "labels.npy", labels)
        params = ClusterPolarParams(labels=str(tmp_path / "labels.npy"), scheduler="synchronous")
        return ClusterPolarMapper(params)

    def test_names_maps_like_the_output_tree(self, mapper: ClusterPolarMapper) -> None:
        maps = mapper.map(shifted_disk_dataset())
        assert {"S_cluster_0", "S_cluster_1", "S_argmax", "S_confidence", "Ex", "Ey", "E_mag", "E_angle",
                "com_x", "com_y"} <= set(maps)


def test_mapper_without_labels_is_a_clear_error() -> None:
    from scopeweave.errors import ScopeweaveError

    with pytest.raises(ScopeweaveError, match="needs labels"):
        ClusterPolarMapper(ClusterPolarParams()).map(shifted_disk_dataset())


def test_gated_com_refuses_cluster_gates() -> None:
    with pytest.raises(ValueError, match="gate_mode must be 'roi'"):
        GatedComParams(dpc=DpcParams(gate_mode="union"))
    assert isinstance(GatedComParams(), ComputeParams)


def test_plugins_show_lists_the_seed_sections(scopeweave_registry: Registry) -> None:
    result = CliRunner().invoke(cli, ["plugins", "show", "workflow", "polar-map"])
    assert result.exit_code == 0, result.output
    for section in ("templates", "preprocess", "matched_filter", "dpc", "calibration", "validation", "scheduler"):
        assert section in result.output


def test_cli_synthesize_and_inspect(scopeweave_registry: Registry, tmp_path: Path) -> None:
    scopeweave_registry.register_commands(cli)
    out = tmp_path / "demo.h5"
    runner = CliRunner()
    made = runner.invoke(cli, ["4dstem", "synthesize", str(out), "--scan", "6", "8", "--detector", "24", "24",
                               "--chunk-rows", "2", "--dtype", "uint16"])
    assert made.exit_code == 0, made.output
    assert (tmp_path / "demo_labels.npy").exists()
    assert (tmp_path / "demo_truth.npz").exists()
    assert "[workflow.params.data]" in made.output
    shown = runner.invoke(cli, ["4dstem", "inspect", str(out), "--block-mib", "0.005"])
    assert shown.exit_code == 0, shown.output
    assert "chunks [2, 8, 24, 24]" in shown.output
    assert "scan [6, 8]" in shown.output
    assert "3 chunk-aligned blocks of up to 2 x 8 positions" in shown.output
    bad = runner.invoke(cli, ["4dstem", "inspect", str(out), "--scan", "8", "6"])
    assert bad.exit_code == 2
    assert "does not match the dataset" in bad.output
    headless = runner.invoke(cli, ["4dstem", "pick-centre", str(out)])
    assert headless.exit_code == 2
    assert "needs a display" in headless.output
