"""scopeweave-puncta[deep]: the hybrid U-Net against gauss-mle, after a training run of stated length.

Run by hand (PyTorch CPU in the main venv)::

    .venv/bin/python benchmarks/puncta_deep_bench.py [--steps 2400] [--checkpoint PATH] [--threads 1]

1. Training (skipped with ``--checkpoint``): the default model (2 input channels, 3 context frames,
   base_channels 16, depth 3) on on-the-fly simulated 48 x 48 px windows, batch 16, two stages
   (localization only for the first third, then localization + calcium) and a three-level
   curriculum (easy -> hard: density up to 2 puncta/µm², photons down to 300, background up to
   50 photons/px).  Run directory: ``runs/puncta-deep-bench/`` (git-ignored).
2. Inference speed on a 64-frame 256 x 256 px two-channel movie on the CPU (torch threads 1 and 2,
   batch 1 and 8), frames per second of the whole ``Predictor.analyze`` call (reading, network,
   post-processing, calcium events), median of 3 runs after a warm-up; gauss-mle on the same
   movie for reference.
3. Accuracy: ``puncta-deep-evaluate``'s protocol at low (0.1 /µm²) and high (1.0 /µm²) density,
   1000 photons, background 10 photons/px, 3 movies x 50 frames of 64 x 64 px per scenario
   (seeds never used in training): Jaccard, RMSE, efficiency, calcium and tracking scores of both
   pipelines on the same movies.

Writes benchmarks/results/puncta_deep.json and benchmarks/results/puncta_deep.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parents[1]


def _training_params(steps: int, seed: int) -> Any:
    from scopeweave_puncta.deep.params import ModelConfig, SyntheticLevel, TrainingStage, TrainParams

    first = steps // 3
    curriculum = (
        SyntheticLevel(start_step=0, density_per_um2=(0.05, 0.4), photons_mean=(1500.0, 3000.0),
                       background_photons=(2.0, 20.0)),
        SyntheticLevel(start_step=steps // 4, density_per_um2=(0.05, 1.0), photons_mean=(500.0, 3000.0),
                       background_photons=(2.0, 40.0)),
        SyntheticLevel(start_step=steps // 2, density_per_um2=(0.05, 2.0), photons_mean=(300.0, 3000.0),
                       background_photons=(2.0, 50.0)),
    )
    stages = (
        TrainingStage(name="localization", steps=first, learning_rate=2e-3, warmup_steps=50, tasks=("localization",)),
        TrainingStage(name="joint", steps=steps - first, learning_rate=1e-3, warmup_steps=50),
    )
    return TrainParams(model=ModelConfig(), curriculum=curriculum, stages=stages, batch_size=16, crop_px=48,
                       validation_every_steps=200, validation_samples=48, validation_image_px=64, seed=seed,
                       num_threads=1, tensorboard=False)


def _train(steps: int, seed: int) -> tuple[Path, dict[str, Any]]:
    from scopeweave_puncta.deep.trainer import Trainer

    params = _training_params(steps, seed)
    out = ROOT / "runs" / "puncta-deep-bench"
    last = {"t": time.perf_counter()}

    def progress(n: int) -> None:
        if time.perf_counter() - last["t"] > 60:
            last["t"] = time.perf_counter()
            print(f"  ... training, {time.strftime('%H:%M:%S')}", flush=True)

    def emit(event: str, **fields: Any) -> None:
        if event == "validation":
            print(f"  step {fields['step']}: val_loss {fields['val_loss']:.3f} JI {fields['jaccard']:.3f} "
                  f"RMSE {fields['rmse_nm']:.1f} nm calcium F1 {fields['calcium_f1']:.3f} "
                  f"({fields['elapsed_s']:.0f} s)", flush=True)

    result = Trainer(params, out, emit=emit, on_step=progress).run()
    info = {"steps": result.steps, "elapsed_s": result.elapsed_s, "best": result.best,
            "final_validation": result.history[-1], "batch_size": params.batch_size, "crop_px": params.crop_px,
            "stages": [{"name": s.name, "steps": s.steps, "learning_rate": s.learning_rate, "tasks": list(s.tasks)}
                       for s in params.stages]}
    return result.best_checkpoint, info


def _training_from_checkpoint(checkpoint: Path) -> dict[str, Any] | None:
    """What a checkpoint written by puncta-train (or the run's ``last.pt`` next to it) records about the run."""
    from scopeweave_puncta.deep.checkpoint import load_checkpoint

    last_path = checkpoint.parent / "last.pt"
    data = load_checkpoint(last_path if last_path.is_file() else checkpoint)
    params, history = data.get("training_params"), data.get("history")
    if not isinstance(params, dict) or not history:
        return None
    last = history[-1]
    return {"steps": int(last["step"]), "elapsed_s": float(last["elapsed_s"]), "best": data.get("best"),
            "final_validation": last, "batch_size": params["batch_size"], "crop_px": params["crop_px"],
            "stages": [{k: s[k] for k in ("name", "steps", "learning_rate", "tasks")} for s in params["stages"]]}


def _speed(checkpoint: Path, threads: list[int]) -> list[dict[str, Any]]:
    import torch
    from scopeweave_puncta.camera_model import CameraModel
    from scopeweave_puncta.deep.inference import Predictor
    from scopeweave_puncta.deep.params import PredictionParams
    from scopeweave_puncta.localizers import GaussFitLocalizer, GaussFitParams
    from scopeweave_puncta.sim_params import SimulationParams
    from scopeweave_puncta.simulate import simulate_sample

    sample = simulate_sample(SimulationParams(frames_per_sample=64, image_size_px=(256, 256), num_puncta_mean=200,
                                              seed=424242), 0)
    assert sample.calcium is not None
    camera = CameraModel()
    rows = []
    for n_threads in threads:
        torch.set_num_threads(n_threads)
        for batch in (1, 8):
            predictor = Predictor([checkpoint], PredictionParams(device="cpu", batch_size=batch))
            predictor.analyze(sample.movie[:8], calcium=sample.calcium[:8], camera=camera, pixel_size_nm=100.0)
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                predictor.analyze(sample.movie, calcium=sample.calcium, camera=camera, pixel_size_nm=100.0)
                times.append(time.perf_counter() - t0)
            fps = sorted(64 / t for t in times)
            rows.append({"method": "hybrid-unet", "device": "cpu", "threads": n_threads, "batch": batch,
                         "fps_median": statistics.median(fps), "fps_min": fps[0], "fps_max": fps[-1]})
            print(f"  hybrid-unet cpu threads={n_threads} batch={batch}: {statistics.median(fps):.2f} frames/s",
                  flush=True)
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    mle = GaussFitLocalizer(GaussFitParams(camera=camera), method="mle")
    mle.localize(sample.movie[:4], pixel_size_nm=100.0)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        mle.localize(sample.movie, pixel_size_nm=100.0)
        times.append(time.perf_counter() - t0)
    fps = sorted(64 / t for t in times)
    rows.append({"method": "gauss-mle", "device": "cpu", "threads": 1, "batch": None,
                 "fps_median": statistics.median(fps), "fps_min": fps[0], "fps_max": fps[-1]})
    print(f"  gauss-mle 1 thread: {statistics.median(fps):.2f} frames/s", flush=True)
    return rows


def _accuracy(checkpoint: Path) -> tuple[list[Any], str]:
    from scopeweave_puncta.deep.evaluation import evaluate_scenario, performance_markdown
    from scopeweave_puncta.deep.inference import Predictor
    from scopeweave_puncta.deep.params import DeepEvaluateParams, PredictionParams
    from scopeweave_puncta.localizers import GaussFitLocalizer, GaussFitParams

    params = DeepEvaluateParams(checkpoints=(checkpoint,), prediction=PredictionParams(device="cpu"))
    predictor = Predictor(params.checkpoints, params.prediction)
    baseline = GaussFitLocalizer(GaussFitParams(psf_sigma_nm=params.psf_sigma_nm, camera=params.simulation.camera),
                                 method="mle")
    results = []
    for k, scenario in enumerate(params.scenarios):
        results.append(evaluate_scenario(predictor, baseline, params, scenario, scenario_index=k))
        m = results[-1].metrics
        print(f"  {scenario.name}: JI {m['hybrid-unet']['jaccard']:.3f} vs {m['baseline']['jaccard']:.3f}, "
              f"RMSE {m['hybrid-unet']['rmse_nm']:.1f} vs {m['baseline']['rmse_nm']:.1f} nm", flush=True)
    return results, performance_markdown(results, baseline_name="gauss-mle")


def _machine() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} vCPU {cpu}, torch {torch.__version__}, no GPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=2400, help="training steps (ignored with --checkpoint)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", type=Path, help="evaluate this checkpoint instead of training")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch CPU threads for the speed rows")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    training: dict[str, Any] | None = None
    if args.checkpoint is None:
        print(f"training {args.steps} steps ...", flush=True)
        checkpoint, training = _train(args.steps, args.seed)
    else:
        checkpoint = args.checkpoint
        training = _training_from_checkpoint(checkpoint)
    print("inference speed ...", flush=True)
    speed = _speed(checkpoint, args.threads)
    torch.set_num_threads(1)
    print("accuracy ...", flush=True)
    results, tables = _accuracy(checkpoint)
    machine = _machine()
    data = {
        "machine": machine, "checkpoint": str(checkpoint), "training": training, "speed": speed,
        "accuracy": {r.scenario.name: {"scenario": {"density_per_um2": r.scenario.density_per_um2,
                                                    "photons_mean": r.scenario.photons_mean,
                                                    "background_photons": r.scenario.background_photons},
                                       "hybrid-unet": r.metrics["hybrid-unet"], "gauss-mle": r.metrics["baseline"]}
                     for r in results},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "puncta_deep.json").write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    lines = ["## scopeweave-puncta[deep]: hybrid U-Net vs gauss-mle", "",
             f"Machine: {machine}. Peer: our own `gauss-mle` (integrated-Gaussian Poisson MLE, numba, 1 thread) on "
             "the same movies; DECODE itself (GPL, conda-only, Python 3.7-3.8 / PyTorch 1.7) was not run.", ""]
    if training is not None:
        final = training["final_validation"]
        lines += [f"Training: {training['steps']} steps x batch {training['batch_size']} of "
                  f"{training['crop_px']} x {training['crop_px']} px simulated windows, "
                  f"{training['elapsed_s'] / 60:.1f} min on 1 CPU thread; final validation JI {final['jaccard']:.3f}, "
                  f"RMSE {final['rmse_nm']:.1f} nm, calcium pixel F1 {final['calcium_f1']:.3f}.", ""]
    lines += ["**Inference speed, 64 frames of 256 x 256 px (2 channels), CPU** (median [min-max] frames/s)", "",
              "| method | threads | batch | frames/s |", "|---|---|---|---|"]
    for row in speed:
        lines.append(f"| {row['method']} | {row['threads']} | {row['batch'] or '-'} | {row['fps_median']:.2f} "
                     f"[{row['fps_min']:.2f}-{row['fps_max']:.2f}] |")
    lines += ["", "**Accuracy** (3 movies x 50 frames of 64 x 64 px per scenario; tolerance 250 nm)", "", tables]
    (RESULTS / "puncta_deep.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
