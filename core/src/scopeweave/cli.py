"""The ``scopeweave`` command.

A user error prints one clear message and exits with status 2; no traceback.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import attrs
import click

from scopeweave import __version__
from scopeweave.errors import ScopeweaveError
from scopeweave.registry import Registry, get_registry
from scopeweave.session import RunFailed, load_session, run_session
from scopeweave.specs import KINDS
from scopeweave.structure import describe_type

__all__ = ["main"]

EXIT_USER_ERROR = 2
_NAMES_RE = re.compile(r"^[A-Za-z_]\w*(\s*,\s*[A-Za-z_]\w*)*(\s*:.*)?$")
EXIT_INTERRUPTED = 130


def fail(message: str) -> NoReturn:
    """Print ``message`` to stderr and exit with status 2."""
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USER_ERROR)


class _Group(click.Group):
    """Turns :class:`ScopeweaveError` into one line on stderr and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ScopeweaveError as exc:
            fail(str(exc))


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="scopeweave")
def cli() -> None:
    """scopeweave: a plugin framework for microscopy."""


@cli.group(cls=_Group)
def plugins() -> None:
    """Installed plugins and the components they provide."""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plugins_list(as_json: bool) -> None:
    """List plugins: distribution, version, status and what each provides."""
    infos = get_registry().plugins()
    if as_json:
        click.echo(json.dumps([info.to_json() for info in infos], indent=2))
        return
    for info in infos:
        click.echo(f"{info.name}  ({info.distribution} {info.version})  [{info.status}]")
        if info.reason:
            click.echo(f"    {info.reason}")
        for kind, names in info.provides.items():
            click.echo(f"    {kind}: {', '.join(names)}")


@plugins.command("show")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("name")
def plugins_show(kind: str, name: str) -> None:
    """Show one component: summary, roles and parameters with types and defaults."""
    registry = get_registry()
    spec = registry.get(kind, name)
    distribution, version = registry.distribution_of(kind, name)
    click.echo(f"{kind} {spec.name}  ({distribution} {version})")
    click.echo(f"  {spec.summary}")
    if spec.uses:
        click.echo("uses:")
        for role, role_spec in spec.uses.items():
            need = "required" if role_spec.required else "optional"
            click.echo(f"  {role}: {role_spec.kind} ({need}) {role_spec.summary}".rstrip())
    fields = attrs.fields(attrs.resolve_types(spec.params_type))
    click.echo("params:" if fields else "params: none")
    docs = _attribute_docs(spec.params_type)
    for field in fields:
        default = "required" if field.default is attrs.NOTHING else f"default {_show_default(field.default)}"
        click.echo(f"  {field.name}: {describe_type(field.type)}, {default}")
        if field.name in docs:
            click.echo(f"      {docs[field.name]}")


def _show_default(default: Any) -> str:
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return repr(default.factory())
    return repr(default)


def _attribute_docs(cls: type) -> dict[str, str]:
    """Field descriptions from the numpydoc ``Attributes`` sections of ``cls`` and its attrs bases.

    The bases are read first, so a subclass documents only what it changes:
    its entry for a field replaces the one of its base.
    """
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass is cls or attrs.has(klass):
            docs.update(_docstring_attributes(klass.__doc__))
    return docs


def _docstring_attributes(docstring: str | None) -> dict[str, str]:
    """Field descriptions from the numpydoc ``Attributes`` (or ``Parameters``) section of one docstring."""
    docs: dict[str, str] = {}
    current: list[str] = []
    in_section = False
    for raw in (docstring or "").splitlines():
        line = raw.strip()
        if line in ("Attributes", "Parameters"):
            in_section = True
            continue
        if not in_section or not line or set(line) == {"-"}:
            continue
        indent = len(raw) - len(raw.lstrip())
        if indent <= 4 and _NAMES_RE.match(line):
            current = [name.strip() for name in line.split(":")[0].split(",")]
            docs.update({name: "" for name in current})
        else:
            for name in current:
                docs[name] = (docs[name] + " " + line).strip()
    return docs


@cli.group(cls=_Group)
def session() -> None:
    """Validate and run session files."""


@session.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a value (repeatable).")
def session_validate(files: Sequence[Path], overrides: Sequence[str]) -> None:
    """Check session files; print every problem of every file."""
    registry = get_registry()
    failed = []
    for file in files:
        try:
            plan = load_session(file, registry, overrides=overrides)
        except ScopeweaveError as exc:
            click.echo(str(exc), err=True)
            failed.append(file)
            continue
        click.echo(f"{file}: ok ({len(plan.components)} components, workflow {plan.workflow.spec.name!r})")
    if failed:
        sys.exit(EXIT_USER_ERROR)


@session.command("run")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a value (repeatable).")
@click.option("--output", "output", type=click.Path(path_type=Path), default=None,
              help="Folder that receives the run directory (default: [session] output_dir).")
def session_run(file: Path, overrides: Sequence[str], output: Path | None) -> None:
    """Run a session file; its products go into a new run directory."""
    registry = get_registry()
    plan = load_session(file, registry, overrides=overrides)
    run_plan(plan, registry, output)


def run_plan(plan: Any, registry: Registry, output: Path | None) -> None:
    """Run a plan from the command line: report where the run went and how it ended."""
    try:
        outcome = run_session(plan, registry, output_root=output)
    except KeyboardInterrupt:
        click.echo("interrupted; the run directory holds its report (status: interrupted)", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except RunFailed as exc:
        fail(str(exc))
    summary = outcome.report.get("results", {}).get("summary")
    if summary:
        click.echo(summary)
    click.echo(f"run directory: {outcome.run_dir}")
    click.echo(f"status: {outcome.status}")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``scopeweave`` console script."""
    try:
        get_registry().register_commands(cli)
    except ScopeweaveError as exc:
        fail(str(exc))
    cli.main(args=list(argv) if argv is not None else None, prog_name="scopeweave")
