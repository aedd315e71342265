"""Workflow ``focus-calibration``: rank metrics on labelled references, save the best as a QC profile.

The references are the seed's bad / okay / great gallery: images (or frames
of stacks) with a label each, listed in a CSV (``path,label`` and optional
``frame`` and ``stack`` columns) or laid out as one sub-folder per label. Each
metric is scored on every reference; its ROC AUC says how well it separates
the good labels from the rest, Youden's J picks its threshold, and the
confusion table at that threshold is reported. The winner is written as a
QC profile (TOML) that ``frame-qc`` loads with ``profile = "..."``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from scopeweave.atomic import write_text_atomic
from scopeweave.errors import ScopeweaveError
from scopeweave.registry import get_registry
from scopeweave.runs import RunContext
from scopeweave_focusmetrics.profile import QcProfile, write_profile
from scopeweave_focusmetrics.readers import IMAGE_SUFFIXES, load_stack, read_image, resolve_stacks
from scopeweave_focusmetrics.report.figures import save_figure
from scopeweave_focusmetrics.workflow_params import CalibrationParams
from scopeweave_focusmetrics.workflows._metrics import metric_by_name

__all__ = ["CalibrationParams", "FocusCalibration", "MetricRanking", "Reference", "rank_metric", "read_references"]


@attrs.frozen(kw_only=True)
class Reference:
    """One labelled frame: its file, frame index inside the file, label and stack group."""

    path: Path
    label: str
    frame: int = 0
    stack: str = ""


def read_references(spec: str, *, base: Path | None = None) -> list[Reference]:
    """References from a CSV manifest (``path,label[,frame][,stack]``) or a folder of label sub-folders."""
    root = Path(spec).expanduser()
    if not root.is_absolute() and base is not None:
        root = base / root
    if root.is_dir():
        refs = []
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            for file in sorted(folder.iterdir()):
                if file.suffix.lower() in (*IMAGE_SUFFIXES, ".tif", ".tiff"):
                    refs.append(Reference(path=file, label=folder.name))
        if not refs:
            raise ValueError(f"references {root}: no images in label sub-folders (e.g. bad/, okay/, great/).")
        return refs
    if not root.is_file():
        raise FileNotFoundError(f"references {root}: no such file or folder")
    refs = []
    with open(root, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"path", "label"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"references {root}: missing column(s) {sorted(missing)}.")
        for line, row in enumerate(reader, start=2):
            path = Path(row["path"]).expanduser()
            path = path if path.is_absolute() else root.parent / path
            try:
                frame = int(row.get("frame") or 0)
            except ValueError:
                raise ValueError(f"references {root}, line {line}: frame {row['frame']!r} is not an integer.") from None
            refs.append(Reference(path=path, label=row["label"].strip(), frame=frame, stack=(row.get("stack") or "").strip()))
    if not refs:
        raise ValueError(f"references {root}: no rows.")
    return refs


@attrs.frozen(kw_only=True)
class MetricRanking:
    """How well one metric separates good from bad references."""

    metric: str
    higher_is_sharper: bool
    auc: float
    threshold: float
    tp: int
    fp: int
    tn: int
    fn: int

    @property
    def balanced_accuracy(self) -> float:
        """Mean of sensitivity and specificity at the threshold."""
        return 0.5 * (self.tp / max(self.tp + self.fn, 1) + self.tn / max(self.tn + self.fp, 1))


def rank_metric(name: str, scores: NDArray[np.float64], good: NDArray[np.bool_], *, higher_is_sharper: bool) -> MetricRanking:
    """ROC AUC of ``scores`` for ``good``, the Youden-J threshold and the confusion table there.

    A frame is called good when its score is >= threshold (<= for lower-is-sharper metrics).
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    oriented = scores if higher_is_sharper else -scores
    finite = np.isfinite(oriented)
    if good[finite].all() or not good[finite].any():
        raise ValueError("calibration needs at least one good and one bad reference with a finite score.")
    auc = float(roc_auc_score(good[finite], oriented[finite]))
    fpr, tpr, cut = roc_curve(good[finite], oriented[finite])
    best = int(np.argmax(tpr - fpr))
    oriented_threshold = float(cut[best]) if np.isfinite(cut[best]) else float(oriented[finite].max())
    called = oriented >= oriented_threshold
    return MetricRanking(
        metric=name, higher_is_sharper=higher_is_sharper, auc=auc,
        threshold=oriented_threshold if higher_is_sharper else -oriented_threshold,
        tp=int(np.sum(called & good)), fp=int(np.sum(called & ~good)),
        tn=int(np.sum(~called & ~good)), fn=int(np.sum(~called & good)),
    )


class FocusCalibration:
    """Score references with every metric, rank by ROC AUC, write the QC profile of the winner."""

    def __init__(self, params: CalibrationParams) -> None:
        self.params = params

    def _frames(self, refs: list[Reference]) -> list[NDArray[np.generic]]:
        cache: dict[Path, NDArray[np.generic]] = {}
        frames = []
        for ref in refs:
            if ref.path.suffix.lower() in (".tif", ".tiff", ".nd2") and ref.path not in cache:
                cache[ref.path] = load_stack(resolve_stacks(ref.path)[0])
            if ref.path in cache:
                stack = cache[ref.path]
                if not 0 <= ref.frame < len(stack):
                    raise ScopeweaveError(f"references: {ref.path} has {len(stack)} frames; frame {ref.frame} "
                                          "does not exist.")
                frames.append(stack[ref.frame])
            else:
                frames.append(read_image(ref.path))
        return frames

    def run(self, context: RunContext) -> Mapping[str, Any]:
        p = self.params
        base = context.session_path.parent if context.session_path is not None else None
        try:
            refs = read_references(p.references, base=base)
            frames = self._frames(refs)
        except (FileNotFoundError, ValueError) as exc:
            raise ScopeweaveError(f"focus-calibration: {exc}") from exc
        good = np.array([r.label in p.good_labels for r in refs])
        if good.all() or not good.any():
            raise ScopeweaveError(f"focus-calibration: the references need good ({', '.join(p.good_labels)}) and "
                                  f"bad labels; found {sorted({r.label for r in refs})}.")
        names = list(p.metrics) or sorted(get_registry().specs("frame_metric"))
        scores: dict[str, NDArray[np.float64]] = {}
        rankings: list[MetricRanking] = []
        with context.progress("calibration", len(names)) as progress, context.timed("score"):
            for name in names:
                metric = metric_by_name(name, field="metrics")
                raw = np.array([float(metric(f)) for f in frames])
                values = self._normalise(raw, refs, bool(metric.higher_is_sharper))
                scores[name] = values
                rankings.append(rank_metric(name, values, good, higher_is_sharper=bool(metric.higher_is_sharper)))
                progress.advance()
        rankings.sort(key=lambda r: (-r.auc, -r.balanced_accuracy, r.metric))
        winner = rankings[0]
        profile = QcProfile(metric=winner.metric, higher_is_sharper=winner.higher_is_sharper,
                            rule="floor" if p.normalisation == "absolute" else "peak", threshold=winner.threshold,
                            auc=winner.auc, labels_good=tuple(p.good_labels))
        write_profile(context.product_path(p.profile_name), profile,
                      comment=f"QC profile written by focus-calibration from {len(refs)} references "
                              f"({int(good.sum())} good).")
        self._write_tables(context, refs, scores, rankings)
        self._plot_roc(context, rankings[:6], scores, good)
        summary = (f"focus-calibration: best metric {winner.metric} (AUC {winner.auc:.3f}, threshold "
                   f"{winner.threshold:.6g}); profile {p.profile_name}")
        return {
            "summary": summary, "n_references": len(refs), "n_good": int(good.sum()), "profile": p.profile_name,
            "ranking": [attrs.asdict(r) | {"balanced_accuracy": r.balanced_accuracy} for r in rankings],
        }

    def _normalise(self, raw: NDArray[np.float64], refs: list[Reference], higher: bool) -> NDArray[np.float64]:
        if self.params.normalisation == "absolute":
            return raw
        values = np.empty_like(raw)
        groups: dict[str, list[int]] = {}
        for i, ref in enumerate(refs):
            groups.setdefault(ref.stack or str(ref.path), []).append(i)
        for members in groups.values():
            chunk = raw[members]
            peak = chunk.max() if higher else chunk.min()
            values[members] = chunk / peak if peak != 0 else np.nan
        return values

    def _write_tables(self, context: RunContext, refs: list[Reference], scores: dict[str, NDArray[np.float64]],
                      rankings: list[MetricRanking]) -> None:
        table = io.StringIO()
        writer = csv.writer(table, lineterminator="\n")
        writer.writerow(["rank", "metric", "auc", "threshold", "balanced_accuracy", "tp", "fp", "tn", "fn",
                         "higher_is_sharper"])
        for rank, r in enumerate(rankings, start=1):
            writer.writerow([rank, r.metric, f"{r.auc:.6f}", f"{r.threshold:.10g}", f"{r.balanced_accuracy:.4f}",
                             r.tp, r.fp, r.tn, r.fn, int(r.higher_is_sharper)])
        write_text_atomic(context.product_path("metric_ranking.csv"), table.getvalue())
        table = io.StringIO()
        writer = csv.writer(table, lineterminator="\n")
        names = list(scores)
        writer.writerow(["path", "frame", "label", *names])
        for i, ref in enumerate(refs):
            writer.writerow([str(ref.path), ref.frame, ref.label, *(f"{scores[n][i]:.10g}" for n in names)])
        write_text_atomic(context.product_path("reference_scores.csv"), table.getvalue())

    def _plot_roc(self, context: RunContext, top: list[MetricRanking], scores: dict[str, NDArray[np.float64]],
                  good: NDArray[np.bool_]) -> None:
        from sklearn.metrics import roc_curve

        figure = Figure(figsize=(5.6, 4.6), layout="constrained")
        axes = figure.subplots()
        for r in top:
            oriented = scores[r.metric] if r.higher_is_sharper else -scores[r.metric]
            finite = np.isfinite(oriented)
            fpr, tpr, _ = roc_curve(good[finite], oriented[finite])
            axes.plot(fpr, tpr, label=f"{r.metric} (AUC {r.auc:.3f})")
        axes.plot([0, 1], [0, 1], color="0.7", ls=":")
        axes.set_xlabel("false positive rate (bad called good)")
        axes.set_ylabel("true positive rate (good called good)")
        axes.legend(fontsize=7, loc="lower right")
        save_figure(figure, context.product_path("roc.png"))
