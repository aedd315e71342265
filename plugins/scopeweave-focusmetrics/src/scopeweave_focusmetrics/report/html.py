"""A small self-contained HTML report that shows the figures and the verdicts."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["index_html", "stack_html"]

_STYLE = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}img{max-width:100%;border:1px solid #ddd}"
          "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}"
          ".bad{color:#b00}")


def stack_html(summary: Mapping[str, Any], figures: Sequence[str]) -> str:
    """The report of one stack: verdict, thresholds and why, then the figures (relative links)."""
    e = html.escape
    thresholds = summary["thresholds"]
    rows = "".join(
        f"<tr><th>{e(name)}</th><td>{e(str(value['value']) if isinstance(value, dict) else str(value))}</td>"
        f"<td>{e(value['reason'] if isinstance(value, dict) else '')}</td></tr>"
        for name, value in thresholds.items() if value is not None)
    flags = "".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in summary["flags"].items())
    images = "".join(f'<p><img src="{e(name)}" alt="{e(name)}"></p>' for name in figures)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>frame QC: {e(summary['stack'])}</title>"
            f"<style>{_STYLE}</style></head><body><h1>Frame QC: {e(summary['stack'])}</h1>"
            f"<p>{len(summary['kept'])} of {summary['n_frames']} frames kept; best frame "
            f"<b>{summary['best_frame']}</b>; metric <code>{e(summary['metric'])}</code>.</p>"
            f"<h2>Thresholds</h2><table>{rows}</table><h2>Flagged frames</h2><table>{flags}</table>"
            f"<h2>Figures</h2>{images}<p><a href='frame_qc.csv'>frame_qc.csv</a> · "
            f"<a href='frame_qc.json'>frame_qc.json</a></p></body></html>\n")


def index_html(rows: Sequence[Mapping[str, Any]]) -> str:
    """The run's index: one line per stack with its verdict and a link to its report."""
    e = html.escape
    body = "".join(
        f"<tr><td><a href='{e(r['folder'])}/report.html'>{e(r['stack'])}</a></td><td>{r['n_frames']}</td>"
        f"<td>{r['n_kept']}</td><td>{r['best_frame']}</td></tr>" for r in rows)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>frame QC</title><style>{_STYLE}</style>"
            f"</head><body><h1>Frame QC</h1><table><tr><th>stack</th><th>frames</th><th>kept</th>"
            f"<th>best frame</th></tr>{body}</table></body></html>\n")
