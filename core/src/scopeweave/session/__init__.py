"""Session files: read, validate, run."""

from scopeweave.session.envelope import SCHEMA_VERSION, ComponentConfig, SessionInfo, WorkflowConfig
from scopeweave.session.plan import PlannedComponent, SessionPlan, load_session, parse_toml, plan_session
from scopeweave.session.runner import RunFailed, RunOutcome, run_session

__all__ = [
    "SCHEMA_VERSION",
    "ComponentConfig",
    "PlannedComponent",
    "RunFailed",
    "RunOutcome",
    "SessionInfo",
    "SessionPlan",
    "WorkflowConfig",
    "load_session",
    "parse_toml",
    "plan_session",
    "run_session",
]
