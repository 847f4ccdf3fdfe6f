"""The README and docs/ work as written: every shell command of their ```bash blocks runs (or its cheap dry-run
variant does), the README's first Python example runs from another folder, and every relative link resolves.

How a command is run (in a copy of the repository, with a temporary MLflow store and the venv on PATH):

* installs (``pip install``, ``make setup``) and make targets that install, test, benchmark or serve are checked
  with ``make -n`` / against pyproject's extras: the target or extra must exist;
* ``make reproduce-<study> ...`` gets ``DRY_RUN=1`` and ``python -m adbench_repro.reproduce`` gets ``--dry-run``;
* a multirun (``python -m adbench_repro.run -m ...``) gets ``hydra.sweeper.dry_run=true``;
* anything else of the project (one experiment, ``aggregate``, ``datasets``, ``make help``) runs as written;
* a command whose line carries ``# needs: cluster|gpu|ray|long|root`` is skipped with that reason (``gpu`` and
  ``ray`` run where CUDA or the Ray extra is present). A command that fits no rule fails the test, so a new one
  must be made runnable or marked.

Commands that take more than ~12 s (study dry-runs compose thousands of configurations; real experiments), and the
docs' commands that start Python, are marked slow: the default suite runs the README's and checks the rest.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import REPO_ROOT

README = REPO_ROOT / "README.md"
DOCS = [README, *sorted((REPO_ROOT / "docs").glob("*.md"))]
NEEDS = re.compile(r"needs:\s*([\w-]+)")
NEEDS_KINDS = {"cluster", "gpu", "ray", "long", "root"}
#: make targets that are only checked (they install, test, benchmark, serve or download)
MAKE_CHECK_ONLY = {"setup", "data", "run", "test", "test-slow", "test-cluster", "test-all", "mlflow-ui", "bench",
                   "bench-augmenters", "bench-detectors", "bench-sweep", "reproduce-all", "clean"}
#: commands (by a substring) that took more than ~12 s here (2 busy cores), marked slow; so are the docs' commands
#: that start Python (5-15 s each, the same entry points as the README's), so that the default suite stays near
#: half a minute; `make test-slow` runs them all
SLOW = ("adbench_repro.reproduce ", "make reproduce-table1", "adbench_repro.aggregate table",
        "detector=deepsad seed=0", "augmenter.k=5 augmenter.sigma=0.1", "--audit")
#: copied into the scratch repository (what the commands read); outputs, stores and the venv stay behind
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "data", "mlruns", "mlflow.db*", "outputs", "multirun",
                                     "__pycache__", "quick", "studies", "*.egg-info")


@dataclass(frozen=True)
class Command:
    doc: str
    line: int
    code: str       # the command, continuation lines joined, comment removed
    needs: str | None

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}"


def split_comment(line: str) -> tuple[str, str]:
    """``line`` cut at its first unquoted ``#`` that starts a word: (code, comment)."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip(), line[i + 1:]
    return line.rstrip(), ""


def fenced(text: str, lang: str) -> list[tuple[int, str]]:
    """(first line number, body) of every ```lang block of a Markdown text."""
    return [(text[:m.start()].count("\n") + 2, m.group(1))
            for m in re.finditer(rf"^```{lang}\n(.*?)^```", text, flags=re.S | re.M)]


def bash_commands(path: Path) -> list[Command]:
    """Every command of the ```bash blocks of ``path``."""
    out, rel = [], str(path.relative_to(REPO_ROOT))
    for first, body in fenced(path.read_text(), "bash"):
        parts, needs, start = [], None, None
        for i, raw in enumerate(body.split("\n")):
            code, comment = split_comment(raw)
            if not code.strip() and not parts:
                continue
            m = NEEDS.search(comment)
            needs = needs or (m.group(1) if m else None)
            start = first + i if start is None else start
            parts.append(code.rstrip().removesuffix("\\").strip())
            if not code.rstrip().endswith("\\"):
                out.append(Command(rel, start, " ".join(p for p in parts if p), needs))
                parts, needs, start = [], None, None
    return out


ALL_COMMANDS = [c for doc in DOCS for c in bash_commands(doc)]
#: each distinct command once (the README's quick start is repeated in docs/), at its first place
UNIQUE_COMMANDS = [c for i, c in enumerate(ALL_COMMANDS) if c.code not in {d.code for d in ALL_COMMANDS[:i]}]


def _extras() -> set[str]:
    return set(tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])


def plan(part: str) -> str:
    """The shell text to run for one simple command (no ``&&``/``||``/``;``), or ``true`` when it is only checked.

    Raises ``ValueError`` for a command that fits no rule."""
    toks = shlex.split(part)
    if toks[:2] == ["pip", "install"]:
        for spec in toks[2:]:
            m = re.fullmatch(r"\.\[([\w,-]+)\]", spec)
            if m:
                missing = set(m.group(1).split(",")) - _extras()
                assert not missing, f"{part!r}: no such extra {sorted(missing)} in pyproject.toml"
        return "true"
    if toks[0] == "make":
        targets = [t for t in toks[1:] if "=" not in t and not t.startswith("-")]
        if any(t in MAKE_CHECK_ONLY for t in targets):
            return "make -n " + part.split(None, 1)[1]
        if all(t == "help" or t.startswith("reproduce-") for t in targets):
            return part + (" DRY_RUN=1" if any(t.startswith("reproduce-") for t in targets) else "")
        raise ValueError(f"no rule for make target(s) {targets}")
    if toks[:2] == ["python", "-m"] and len(toks) > 2:
        module, args = toks[2], toks[3:]
        if module == "adbench_repro.run":
            multirun = "-m" in args or "--multirun" in args
            dry = any(a.startswith("hydra.sweeper.dry_run=") for a in args)
            return part + (" hydra.sweeper.dry_run=true" if multirun and not dry else "")
        if module == "adbench_repro.reproduce":
            return part + ("" if "--dry-run" in args else " --dry-run")
        if module in ("adbench_repro.aggregate", "adbench_repro.datasets"):
            return part
    if toks[0] == "echo":
        return part
    raise ValueError("no rule for this command")


def shell_line(code: str) -> str:
    """``code`` with each simple command replaced by what :func:`plan` says."""
    pieces = re.split(r"(\s(?:&&|\|\||;)\s)", code)
    return "".join(p if i % 2 else plan(p.strip()) for i, p in enumerate(pieces))


@pytest.fixture(scope="module")
def scratch_repo(tmp_path_factory, adbench_root):
    """A copy of the repository (no venv, store or outputs), and the environment the commands run in."""
    root = tmp_path_factory.mktemp("readme") / "repo"
    shutil.copytree(REPO_ROOT, root, ignore=COPY_IGNORE, symlinks=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "HYDRA_", "VIRTUAL_ENV"))}
    bindir = str(Path(sys.executable).parent)
    env.update(PATH=os.pathsep.join([bindir, env.get("PATH", "")]), PYTHON=sys.executable, PYTHONPATH=str(root),
               ADBENCH_DATA=str(adbench_root), MLFLOW_TRACKING_URI=f"sqlite:///{root.parent / 'mlflow.db'}",
               PYTHONUNBUFFERED="1")
    return root, env


def _params():
    for c in UNIQUE_COMMANDS:
        starts_python = c.doc != "README.md" and "python -m" in c.code and not c.needs
        marks = [pytest.mark.slow] if starts_python or any(s in c.code for s in SLOW) else []
        yield pytest.param(c, id=f"{c}:{c.code[:60]}", marks=marks)


def test_the_docs_have_commands():
    docs = {c.doc for c in ALL_COMMANDS}
    assert "README.md" in docs and len(ALL_COMMANDS) >= 20, docs
    assert all(c.needs is None or c.needs in NEEDS_KINDS for c in ALL_COMMANDS), \
        [(str(c), c.needs) for c in ALL_COMMANDS if c.needs not in NEEDS_KINDS | {None}]


@pytest.mark.parametrize("cmd", list(_params()))
def test_shell_command_runs_as_written(cmd: Command, scratch_repo):
    if cmd.needs == "gpu":
        import torch

        if not torch.cuda.is_available():
            pytest.skip("needs: gpu")
    elif cmd.needs == "ray":
        if importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is None:
            pytest.skip("needs: ray (pip install -e '.[ray]')")
    elif cmd.needs:
        pytest.skip(f"needs: {cmd.needs}")
    try:
        line = shell_line(cmd.code)
    except ValueError as exc:
        pytest.fail(f"{cmd}: {exc}: {cmd.code!r}; make it runnable here or mark it `# needs: ...` in the doc")
    root, env = scratch_repo
    proc = subprocess.run(["bash", "-c", line], cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{cmd}: {line}\n--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"


def test_plan_variants():
    assert plan("make setup data run") == "make -n setup data run"
    assert plan("make reproduce-table1 QUICK=1") == "make reproduce-table1 QUICK=1 DRY_RUN=1"
    assert plan("python -m adbench_repro.run -m seed=0,1").endswith("hydra.sweeper.dry_run=true")
    assert plan("python -m adbench_repro.run seed=1") == "python -m adbench_repro.run seed=1"
    assert plan("python -m adbench_repro.reproduce fig4").endswith("--dry-run")
    assert shell_line("make setup && make test") == "make -n setup && make -n test"
    with pytest.raises(ValueError):
        plan("mlflow server --port 5000")
    with pytest.raises(AssertionError):
        plan('pip install -e ".[nosuchextra]"')
    assert split_comment("python -m x 'a#b' # needs: gpu") == ("python -m x 'a#b'", " needs: gpu")


def test_the_two_setup_commands_and_ci_agree():
    """The README's second command is the test command, and .ci/run runs exactly that test command."""
    first = fenced(README.read_text(), "bash")[0][1]
    commands = [split_comment(line)[0].strip() for line in first.splitlines() if split_comment(line)[0].strip()]
    assert commands == ["make setup data run", "make setup && make test"], commands
    ci = [line.strip() for line in (REPO_ROOT / ".ci" / "run").read_text().splitlines()]
    assert "make test" in ci


def test_readme_reads_in_five_minutes():
    assert len(README.read_text().splitlines()) <= 220


def test_readme_python_example_runs_from_another_folder(tmp_path, adbench_root):
    example = fenced(README.read_text(), "python")[0][1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "HYDRA_"))}
    env.update(ADBENCH_DATA=str(adbench_root), PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.run([sys.executable, "-c", example], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    auc, n_generated = proc.stdout.split()
    assert 0.5 < float(auc) <= 1.0 and int(n_generated) > 0
    assert not list(tmp_path.iterdir())  # nothing written where it ran: no store, no outputs


# ---- links ----

def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: link text kept, lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.S | re.M)
    seen: dict[str, int] = {}
    out = set(re.findall(r"<a (?:id|name)=\"([^\"]+)\"", text))
    for heading in re.findall(r"^#{1,6} +(.+?) *#*$", text, flags=re.M):
        slug = _slug(heading)
        out.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return out


def links(path: Path) -> list[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.S | re.M)
    text = re.sub(r"`[^`\n]*`", "code", text)
    return re.findall(r"\]\(([^)\s]+)\)", text)


def test_slugs_follow_github():
    assert _slug("5. The lease: which run does a configuration, and its assumptions") == \
        "5-the-lease-which-run-does-a-configuration-and-its-assumptions"
    assert _slug("`protocol.split: adbench | grouped`") == "protocolsplit-adbench--grouped"
    assert _slug("0. Local sweeps (`-m`)") == "0-local-sweeps--m"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_relative_links_resolve(doc: Path):
    broken = []
    for target in links(doc):
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (doc.parent / path).resolve() if path else doc
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading or anchor #{anchor} in {dest.name}")
    assert not broken, f"{doc.relative_to(REPO_ROOT)}: " + "; ".join(broken)


def test_every_docs_page_is_in_the_readme_contents():
    listed = set(re.findall(r"\(docs/([\w-]+\.md)\)", README.read_text()))
    assert {p.name for p in (REPO_ROOT / "docs").glob("*.md")} <= listed
