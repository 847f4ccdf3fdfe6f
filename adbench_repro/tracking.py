"""MLflow helpers: store set-up, retries on a busy SQLite store, finding finished runs, importing exported ones."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
import os
import random
import time
from pathlib import Path
from typing import Callable, TypeVar
from urllib.parse import urlparse

import mlflow
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from .validate import ConfigError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

log = logging.getLogger(__name__)
T = TypeVar("T")

#: substrings of errors that a retry can cure (SQLite busy, a server restarting)
TRANSIENT = ("database is locked", "database table is locked", "busy", "disk i/o error",
             "connection refused", "connection reset", "max retries exceeded", "temporarily unavailable",
             "unique constraint failed: experiments.name")


def is_transient(exc: BaseException) -> bool:
    """True for errors worth retrying (a locked SQLite store, a server not answering)."""
    text = f"{type(exc).__name__}: {exc}".lower()
    return any(t in text for t in TRANSIENT)


def with_retries(fn: Callable[..., T], *args, attempts: int = 12, base_delay: float = 0.05, **kwargs) -> T:
    """Call ``fn`` and retry transient tracking errors with jittered exponential backoff."""
    for attempt in range(attempts):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - re-raised unless transient
            if attempt == attempts - 1 or not is_transient(exc):
                raise
            delay = min(5.0, base_delay * 2**attempt) * (0.5 + random.random())
            log.debug("transient tracking error (%s); retry %d in %.2fs", exc, attempt + 1, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


@contextlib.contextmanager
def store_lock(uri: str):
    """Hold an exclusive lock on ``<db>.lock`` beside a SQLite store while it is created or migrated: processes
    racing to create a fresh store's tables leave it unusable (``duplicate column name``, ``table ... already
    exists``). No-op for other stores and where ``fcntl`` is missing (Windows)."""
    db = sqlite_path(uri)
    if db is None or fcntl is None:
        yield
        return
    db.parent.mkdir(parents=True, exist_ok=True)
    with open(db.parent / (db.name + ".lock"), "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@functools.lru_cache(maxsize=8)
def client_for(tracking_uri: str) -> MlflowClient:
    """One client per tracking URI and process; a SQLite store is created (or migrated) under :func:`store_lock`,
    and its experiments table read once, so that racing workers find it ready."""
    mlflow.set_tracking_uri(tracking_uri)
    with store_lock(tracking_uri):
        client = MlflowClient(tracking_uri=tracking_uri)
        client.search_experiments(max_results=1)  # the store's tables exist from here on
    return client


class StoreError(ConfigError):
    """A tracking store that cannot be used: its driver is missing, it does not answer, or it is read-only."""


def shown_uri(uri: str) -> str:
    """``uri`` with its password, if any, replaced by ``***``."""
    parts = urlparse(uri)
    if parts.password:
        return uri.replace(f":{parts.password}@", ":***@", 1)
    return uri


def check_store(uri: str, experiment_name: str, timeout_s: float = 5.0) -> None:
    """Refuse, within seconds and before any work, a tracking store that cannot be used: a database URI whose
    driver is not installed, a server or database that does not answer, a store that cannot be written. For a
    server the write is the experiment's creation or its ``adbench.store_checked`` tag. Raises :class:`StoreError`
    (one line naming the URI and what to do)."""
    where = f"tracking store {shown_uri(uri)} (mlflow.tracking_uri / MLFLOW_TRACKING_URI)"
    scheme = uri.split("://", 1)[0].lower() if "://" in uri else "file"
    if scheme in ("http", "https"):
        _check_server(uri, experiment_name, timeout_s, where)
    elif scheme.startswith("sqlite"):
        db = sqlite_path(uri)
        _check_writable(db if db.exists() else db.parent, where)
    elif scheme == "file":
        path = Path(urlparse(uri).path if uri.startswith("file:") else uri)
        _check_writable(path if path.exists() else path.parent, where)
        log.warning("%s is a file store, which writes tags by truncate-then-write: do not run concurrent sweeps "
                    "on it (use sqlite:/// or a server)", where)
    elif scheme.split("+")[0] in ("postgresql", "mysql", "mssql"):
        _check_database(uri, timeout_s, where)


def _check_writable(path: Path, where: str) -> None:
    if not path.exists():
        raise StoreError(f"{where}: the folder {path} does not exist: create it or point the URI elsewhere")
    if not os.access(path, os.W_OK):
        raise StoreError(f"{where}: {path} is not writable: fix its permissions or point the URI elsewhere")


def _check_server(uri: str, experiment_name: str, timeout_s: float, where: str) -> None:
    from mlflow.utils.rest_utils import MlflowHostCreds, http_request

    creds = MlflowHostCreds(uri.rstrip("/"), username=os.environ.get("MLFLOW_TRACKING_USERNAME"),
                            password=os.environ.get("MLFLOW_TRACKING_PASSWORD"),
                            token=os.environ.get("MLFLOW_TRACKING_TOKEN"),
                            ignore_tls_verification=os.environ.get("MLFLOW_TRACKING_INSECURE_TLS") == "true")

    def call(endpoint: str, method: str = "GET", **kw):
        try:
            return http_request(creds, endpoint, method, max_retries=0, timeout=timeout_s, **kw)
        except Exception as exc:  # noqa: BLE001 - refused, unknown host, timeout: all said in one line
            text = str(exc).lower()
            why = next((w for k, w in (("refused", "connection refused"), ("timed out", f"no answer in {timeout_s:g} s"),
                                       ("resolve", "unknown host"), ("name or service", "unknown host"))
                        if k in text), " ".join(str(exc).split())[:150])
            raise StoreError(f"{where} does not answer ({why}): start the server (docs/sweeps.md) or set the URI "
                             "of one that runs") from None

    def refuse(resp, what: str) -> None:
        text = " ".join(resp.text.split())[:200]
        raise StoreError(f"{where}: {what} failed with HTTP {resp.status_code} ({text}): check the server's log, "
                         "its backend store and your credentials (MLFLOW_TRACKING_USERNAME/PASSWORD/TOKEN)")

    api = "/api/2.0/mlflow/experiments"
    got = call(f"{api}/get-by-name", params={"experiment_name": experiment_name})
    if got.status_code == 200:
        exp_id = got.json()["experiment"]["experiment_id"]
        wrote = call(f"{api}/set-experiment-tag", "POST", json={"experiment_id": exp_id, "key": "adbench.store_checked",
                                                               "value": time.strftime("%Y-%m-%dT%H:%M:%S")})
        what = "writing a tag of experiment " + repr(experiment_name)
    elif got.status_code == 404 and "RESOURCE_DOES_NOT_EXIST" in got.text:
        wrote = call(f"{api}/create", "POST", json={"name": experiment_name, "tags": [
            {"key": k, "value": v} for k, v in runs_view_tag().items()]})
        what = "creating experiment " + repr(experiment_name)
        if wrote.status_code != 200 and "already exists" in wrote.text.lower():
            return  # another sweep created it meanwhile
    else:
        return refuse(got, "reading experiment " + repr(experiment_name))
    if wrote.status_code != 200:
        refuse(wrote, what)


def _check_database(uri: str, timeout_s: float, where: str) -> None:
    import sqlalchemy

    url = sqlalchemy.engine.make_url(uri)
    try:
        url.get_dialect().import_dbapi()
    except ImportError as exc:
        hint = ("pip install -e '.[server]' and write postgresql+psycopg2://" if url.get_backend_name() == "postgresql"
                else f"install the Python driver of {url.drivername}")
        raise StoreError(f"{where}: its database driver is not installed ({exc}): {hint}") from None
    except Exception as exc:  # noqa: BLE001 - an unknown dialect or driver name
        raise StoreError(f"{where}: {type(exc).__name__}: {exc}") from None
    args = {"connect_timeout": max(1, int(timeout_s))} if url.get_backend_name() in ("postgresql", "mysql") else {}
    engine = sqlalchemy.create_engine(url, connect_args=args, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - refused, bad password, unknown database
        first = " ".join(str(getattr(exc, "orig", exc)).split())[:200]
        raise StoreError(f"{where} does not answer ({first}): start the database, or create its role and "
                         "database (docs/sweeps.md)") from None
    finally:
        engine.dispose()


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (None for other stores)."""
    if not uri.startswith("sqlite:"):
        return None
    path = urlparse(uri).path
    # sqlite:///rel.db -> "/rel.db" (relative), sqlite:////abs.db -> "//abs.db" (absolute)
    return Path(path[1:]) if path.startswith("/") else Path(path)


def artifact_location(client: MlflowClient) -> str | None:
    """Artifacts of a SQLite store live beside its database (``<db dir>/mlruns``), not in the current
    directory (MLflow's default); None (MLflow's default) for other stores."""
    uri = getattr(getattr(client, "_tracking_client", None), "tracking_uri", None)
    db = sqlite_path(str(uri)) if uri else None
    return (db.resolve().parent / "mlruns").as_uri() if db is not None else None


#: a saved view of the runs table with the results as columns, sorted by AUCROC. MLflow 3's UI keeps
#: "Views > Save as new view" as an experiment tag ``mlflow.sharedViewState.<key>``; ui_url() opens it.
RUNS_VIEW_KEY = "aucroc"
RUNS_VIEW_STATE = {"selectedColumns": ["metrics.`aucroc`", "metrics.`aucpr`", "tags.`dataset`", "tags.`augmenter`",
                                       "tags.`multiplier`", "tags.`detector`", "tags.`seed`"],
                   "orderByKey": "metrics.`aucroc`", "orderByAsc": False}


def runs_view_tag() -> dict[str, str]:
    """The experiment tag that saves :data:`RUNS_VIEW_STATE` as the view "AUCROC"."""
    envelope = {"name": "AUCROC", "createdAt": 0, "updatedAt": 0, "state": json.dumps(RUNS_VIEW_STATE)}
    return {f"mlflow.sharedViewState.{RUNS_VIEW_KEY}": json.dumps(envelope)}


def ui_url(experiment_id: str, base: str = "http://127.0.0.1:5000") -> str:
    """The MLflow UI page of the runs table with the AUCROC view (MLflow 3 opens an experiment on its GenAI
    overview unless asked for the model-training workflow)."""
    return f"{base}/#/experiments/{experiment_id}/runs?workflowType=machine_learning&viewStateShareKey={RUNS_VIEW_KEY}"


def run_url(experiment_id: str, run_id: str, base: str = "http://127.0.0.1:5000") -> str:
    """The MLflow UI page of one run."""
    return f"{base.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"


def where_to_open(tracking_uri: str, experiment_name: str, experiment_id: str, run_id: str) -> str:
    """Two lines for the console: where run ``run_id`` was recorded (a SQLite store as an absolute path) and how
    to open it in the MLflow UI (``make mlflow-ui`` for the project's store, ``mlflow ui`` for another file,
    the server's own address for a tracking server)."""
    db = sqlite_path(tracking_uri)
    if db is None:
        if tracking_uri.startswith(("http://", "https://")):
            return (f"run {run_id} recorded in {tracking_uri}, experiment {experiment_name}\n"
                    f"open it: {run_url(experiment_id, run_id, tracking_uri)}")
        return (f"run {run_id} recorded in {tracking_uri}, experiment {experiment_name}\n"
                f"open it: mlflow ui --backend-store-uri {tracking_uri}, then {run_url(experiment_id, run_id)}")
    db = db.resolve()
    uri = f"sqlite:///{db}"
    from .paths import is_project_store

    serve = "make mlflow-ui" if is_project_store(uri) else f"mlflow ui --backend-store-uri {uri}"
    return (f"run {run_id} recorded in {uri}, experiment {experiment_name}\n"
            f"open it: {serve} (serves http://127.0.0.1:5000), then {run_url(experiment_id, run_id)}")


def ensure_experiment(client: MlflowClient, name: str) -> str:
    """The id of experiment ``name``, creating it (race-safe) when missing, with the AUCROC runs view."""

    def get_or_create() -> str:
        exp = client.get_experiment_by_name(name)
        if exp is not None:
            if exp.lifecycle_stage == "deleted":
                raise MlflowException(f"MLflow experiment {name!r} is deleted; restore it or set mlflow.experiment_name")
            for key, value in runs_view_tag().items():
                if key not in exp.tags:  # a store made before the view was saved
                    client.set_experiment_tag(exp.experiment_id, key, value)
            return exp.experiment_id
        try:
            return client.create_experiment(name, tags=runs_view_tag(), artifact_location=artifact_location(client))
        except MlflowException as exc:
            if "already exists" in str(exc).lower() or "unique constraint" in str(exc).lower():
                return client.get_experiment_by_name(name).experiment_id
            raise

    return with_retries(get_or_create)


def iter_finished_runs(client: MlflowClient, experiment_id: str):
    """Every FINISHED run of the experiment, page by page (with retries)."""
    token = None
    while True:
        page = with_retries(client.search_runs, [experiment_id], filter_string="attributes.status = 'FINISHED'",
                            max_results=5000, page_token=token)
        yield from page
        token = page.token
        if not token:
            break


def finished_hashes(client: MlflowClient, experiment_id: str) -> set[str]:
    """Config hashes of every FINISHED run in the experiment."""
    out = {r.data.tags.get("config_hash", "") for r in iter_finished_runs(client, experiment_id)}
    out.discard("")
    return out


def open_experiment(mlflow_cfg) -> tuple[MlflowClient, str]:
    """``(client, experiment_id)`` for a config's ``mlflow`` section, creating the experiment if needed."""
    client = client_for(str(mlflow_cfg.tracking_uri))
    return client, ensure_experiment(client, str(mlflow_cfg.experiment_name))


def log_batch(client: MlflowClient, run_id: str, metrics: dict | None = None, params: dict | None = None,
              tags: dict | None = None) -> None:
    """Log metrics/params/tags in chunks that fit MLflow's batch limits, with retries."""
    now = int(time.time() * 1000)
    m = [Metric(k, float(v), now, 0) for k, v in (metrics or {}).items()]
    p = [Param(k, str(v)[:6000]) for k, v in (params or {}).items()]
    t = [RunTag(k, str(v)) for k, v in (tags or {}).items()]
    for i in range(0, max(len(m), len(p), len(t), 1), 100):
        with_retries(client.log_batch, run_id, metrics=m[i:i + 100], params=p[i:i + 100], tags=t[i:i + 100])


def run_name(tags: dict) -> str:
    """The readable name of a run in the MLflow UI, from its identifying tags, the same for a run made here and
    one imported from an export: ``"6_cardio · nng_mix 10x · mlp · 1pct · seed 0"`` (``baseline`` for augmenter
    ``none``; ``nng_mix 10% of train`` with a training-row budget; `` · grouped split`` when not ADBench's split). Not part of the config hash."""
    def tag(key: str) -> str:
        value = tags.get(key)
        return "?" if value is None or str(value) in ("", "nan") else str(value)

    augmenter = tag("augmenter")
    generated = "baseline" if augmenter == "none" else f"{augmenter} {tag('multiplier')}x"
    fraction = tags.get("budget.fraction_of_train")
    if augmenter != "none" and fraction is not None and str(fraction) not in ("", "nan", "None"):
        generated = f"{augmenter} {float(fraction):.0%} of train"
    parts = [tag("dataset"), generated, tag("detector"), tag("label_ratio"), f"seed {tag('seed')}"]
    split = str(tags.get("protocol.split") or "adbench")
    if split not in ("adbench", "nan"):
        parts.append(f"{split} split")
    return " · ".join(parts)


#: tags an imported run carries besides its own: the file it came from and its run id in the original store
IMPORTED_FROM, IMPORTED_RUN_ID = "imported_from", "imported_run_id"


def import_runs(client: MlflowClient, experiment_id: str, runs, source: str, done: set[str] | None = None) -> int:
    """Add exported FINISHED runs (a DataFrame as read by ``aggregate.runs.read_run_files``) to the store.

    Tags, params and metrics are kept, as are start and end times (so "latest per config hash" still
    holds); each imported run is tagged ``imported_from=<source>`` and ``imported_run_id=<its id>``. A run
    whose config hash already has a FINISHED run in the experiment is skipped, so importing twice adds
    nothing. ``done``: the experiment's FINISHED config hashes when the caller has them (read from the
    store otherwise); the hashes imported are added to it. Returns the number of runs added.
    """
    if done is None:
        done = finished_hashes(client, experiment_id)
    added = 0
    for row in runs.to_dict("records"):
        h = row.get("tags.config_hash")
        if not isinstance(h, str) or not h or h in done or row.get("status") != "FINISHED":
            continue

        def present(v) -> bool:
            return v is not None and not (isinstance(v, float) and math.isnan(v)) and v != ""

        tags = {k[5:]: str(v) for k, v in row.items() if k.startswith("tags.") and present(v)}
        tags.update({IMPORTED_FROM: source, IMPORTED_RUN_ID: str(row["run_id"])})
        params = {k[7:]: v for k, v in row.items() if k.startswith("params.") and present(v)}
        metrics = {k[8:]: float(v) for k, v in row.items() if k.startswith("metrics.") and present(v)}
        start = int(row["start_time"]) if present(row.get("start_time")) else None
        end = int(row["end_time"]) if present(row.get("end_time")) else None
        run = with_retries(client.create_run, experiment_id, start_time=start, tags=tags, run_name=run_name(tags))
        log_batch(client, run.info.run_id, metrics=metrics, params=params)
        with_retries(client.set_terminated, run.info.run_id, "FINISHED", end_time=end)
        done.add(h)
        added += 1
    return added
