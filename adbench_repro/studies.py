"""Study specs: which runs make up one paper artefact (a table or a figure) and how they are laid out.

A study spec is a plain YAML file ``conf/study/<name>.yaml``. It is read by this module only; it is NOT
a Hydra config group and is never composed into the run config. Schema::

    name: table1                      # must equal the file name
    kind: paper                       # paper | beyond (this project's own studies) | user (default)
    title: "Table I: ..."             # free text, shown in the report
    datasets: classical               # a family (classical | cv | nlp) or an explicit list of dataset ids
    paper: results/paper/table1.csv   # optional: the paper's numbers (long CSV with <rows>, column, value)
    rows: detector                    # row key: detector | dataset (Table VII) | augmenter | label_ratio | seed
    sweeps:                           # each block is a cartesian product; the study is their union
      - label_ratio: [1pct]           # required keys: augmenter, detector, label_ratio, seed;
        augmenter: [none, nng_mix]    # multiplier is required unless every augmenter is `none` or the block
                                      # sets "budget.fraction_of_train" (then the multiplier is 0: ignored)
        multiplier: [10]
        detector: [deepsad, mlp]
        seed: [0]
        "augmenter.k": [3, 5]         # any other dotted Hydra override (a list of values)
    columns:                          # paper order; each run configuration goes to the first column it matches
      - {label: "Baseline", match: {augmenter: none}}
      - {label: "NNG-Mix 10x", match: {augmenter: nng_mix, multiplier: 10}, group: "1%"}
    best_within: group                # optional: mark best/second best per row within each column `group`
    extra_rows: [deepsad_pretrained]  # optional: rows beyond the paper, shown but left out of the Average
    compare: {baseline: Baseline, reference: NNG-Mix}  # optional: paired tests of every column vs these
                                      # two columns (adbench_repro.aggregate.stats); either may be omitted
    selection:                        # optional, instead of compare: the columns are candidates, and the table
      baseline: Baseline              # shows selectors (adbench_repro.aggregate.selection): Baseline, Default
      default: NNG-Mix                # (this column), Oracle (best test AUCROC), Random (mean candidate) and
      selectors:                      # each label-free selector (argmax/argmin of the mean of its signals)
        - {label: MMD, signals: [val_mmd], goal: min}
    column_mode: first                # first (default) | all: a configuration may fill several columns
    figure:                           # optional (figure studies): see adbench_repro.aggregate.figures
      {layout: lines, x_label: "...", panel_by: row}
    quick:                            # the QUICK=1 subset
      datasets: [39_vertebral, 42_WBC]
      seeds: [0]
      detectors: [deepsad, xgbod, mlp, catboost]   # default: all but fttransformer

``kind`` says where a study's table goes: ``paper`` (an artefact of the paper) and ``beyond`` (this project's
studies beyond the paper) write the committed results under ``results/``; a spec without ``kind`` is a
``user`` study, whose table, figures, run export and compute count go to ``results/studies/<name>/``
(:func:`Study.results_dir`), so it never touches the committed results.

A column ``match`` compares keys of one expanded configuration (the override dict of :func:`expand`, see
below) with the given value or list of values; ``match`` values of ``none``/``absent`` require the key
to be missing (e.g. ``{"augmenter.use_nn": absent}``). Values compare after :func:`normalise`, so 0.1,
"0.1" and "0.10" are equal, as are False, "false" and "False".

:func:`expand` turns a spec into one dict of Hydra overrides per run configuration, e.g.
``{"dataset": "6_cardio", "label_ratio": "1pct", "augmenter": "nng_mix", "multiplier": 10,
"detector": "deepsad", "seed": 0, "augmenter.k": 3}`` -> ``dataset=6_cardio label_ratio=1pct ...``
(:func:`to_override_list`). With augmenter ``none`` the multiplier cannot matter: it is set to 0 so the
baseline runs are identical across multipliers and studies and are never run twice; its
``budget.fraction_of_train`` is dropped for the same reason. With a training-row budget
(``budget.fraction_of_train``, :mod:`adbench_repro.budget`) the multiplier is set to 0 (ignored, hashed as 0).

The aggregator (:mod:`adbench_repro.aggregate`) counts a run for a study exactly when its ``config_hash``
tag equals the hash of one of these configurations composed from ``conf/``; the column is then chosen
from the configuration (not from the run's params), so ablation runs never leak into other columns.

:func:`widen` adds seeds, detectors or datasets the spec does not use (``reproduce <study> --seeds 0-4``): new
seeds and detectors join every sweep block, new datasets the study's list, and the widened study is the user's
own (``kind: user``), so its table never overwrites the committed results.

CLI: ``python -m adbench_repro.studies`` lists the studies with their run counts;
``python -m adbench_repro.studies table1 [--quick] [--format overrides|json]`` prints the configurations.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

import yaml

from . import CONF_DIR
from .datasets.catalog import FAMILIES, get_dataset

#: where the study specs live (conf/study next to the package in a source checkout)
STUDY_DIR = CONF_DIR / "study"
#: the spec keys a sweep block must give
REQUIRED_SWEEP_KEYS = ("augmenter", "detector", "label_ratio", "seed")
#: group/top-level keys (everything else in a block must be a dotted override like ``augmenter.k``)
PLAIN_KEYS = ("augmenter", "detector", "label_ratio", "seed", "multiplier", "dataset")
ROW_KEYS = ("detector", "dataset", "augmenter", "label_ratio", "seed", "multiplier")
#: detectors left out of the QUICK subset unless asked for (the slowest on a CPU)
QUICK_EXCLUDED_DETECTORS = ("fttransformer",)
#: the training-row budget's override (adbench_repro/budget.py): with it a block needs no multiplier
BUDGET_KEY = "budget.fraction_of_train"
#: match value meaning "the configuration does not set this key"
ABSENT = "absent"

#: study kinds: the paper's artefacts, this project's studies beyond the paper, and a user's own
KINDS = ("paper", "beyond", "user")
#: where a user study's outputs go by default (results/studies/<name>/)
USER_RESULTS = Path("results") / "studies"

_TOP_KEYS = {"name", "kind", "title", "datasets", "paper", "rows", "sweeps", "columns", "quick", "figure",
             "best_within", "column_mode", "notes", "extra_rows", "compare", "selection"}
#: selectors every ``selection`` block has besides its own (see :mod:`adbench_repro.aggregate.selection`)
BUILTIN_SELECTORS = ("Baseline", "Default", "Oracle", "Random", "LODO")
SELECTOR_GOALS = ("max", "min")


@functools.lru_cache(maxsize=None)
def uses_multiplier(augmenter: str) -> bool:
    """Whether augmenter config ``augmenter`` (``conf/augmenter/<name>.yaml``) generates the number of samples
    asked for: its class's ``uses_n`` (false for ``none``, whose multiplier is then 0)."""
    from hydra.utils import get_class

    path = CONF_DIR / "augmenter" / f"{augmenter}.yaml"
    target = yaml.safe_load(path.read_text()).get("_target_") if path.is_file() else None
    return bool(getattr(get_class(target), "uses_n", True)) if target else True


class StudyError(ValueError):
    """A study spec that cannot be used; the message names the file and key at fault."""


@dataclass(frozen=True)
class Column:
    """One column of a study's table: a label, a match on run configurations, and figure hints."""

    label: str
    match: dict[str, Any]
    group: str = ""
    x: Any = None
    series: str = ""
    panel: str = ""


@dataclass
class Study:
    """A validated study spec (see the module docstring for the schema)."""

    name: str
    title: str
    datasets: list[str]
    rows: str
    sweeps: list[dict[str, list]]
    columns: list[Column]
    paper: str | None = None
    quick: dict[str, list] = field(default_factory=dict)
    figure: dict[str, Any] | None = None
    best_within: str = "row"
    column_mode: str = "first"
    extra_rows: list[str] = field(default_factory=list)
    compare: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    kind: str = "user"
    selection: dict[str, Any] | None = None

    def table_labels(self) -> list[str]:
        """The column labels of the study's table: its columns, or with ``selection`` its selectors."""
        if not self.selection:
            return [c.label for c in self.columns]
        return [*BUILTIN_SELECTORS, *(s["label"] for s in self.selection["selectors"])]

    def results_dir(self, quick: bool = False) -> Path:
        """Where the table goes by default (relative to the repository root): ``results/`` for a paper or
        beyond-the-paper study, ``results/studies/<name>/`` for a user's; ``quick/`` below it with ``quick``."""
        base = Path("results") if self.kind in ("paper", "beyond") else USER_RESULTS / self.name
        return base / "quick" if quick else base

    def quick_view(self) -> "Study":
        """This study restricted to its QUICK subset (datasets, seeds, detectors), titled as QUICK: what
        ``reproduce --quick`` runs and aggregates, so that a QUICK table covers exactly those runs."""
        seeds = set(self.quick.get("seeds", [0]))
        dets = self.quick.get("detectors")
        sweeps = []
        for block in self.sweeps:
            block = dict(block)
            block["seed"] = [s for s in block["seed"] if s in seeds]
            block["detector"] = [d for d in block["detector"]
                                 if (d in dets if dets is not None else d not in QUICK_EXCLUDED_DETECTORS)]
            if block["seed"] and block["detector"]:
                sweeps.append(block)
        return replace(self, title=f"QUICK (not comparable with the paper): {self.title}",
                       datasets=list(self.quick.get("datasets", self.datasets)), sweeps=sweeps)

    def column_for(self, config: dict) -> list[Column]:
        """The column(s) a run configuration belongs to ([] when none matches)."""
        hits = [c for c in self.columns if matches(config, c.match)]
        return hits if self.column_mode == "all" else hits[:1]


# ----------------------------------------------------------------------------------------- values


def normalise(value: Any) -> Any:
    """A comparable form of a config/param value: bools and 'true'/'false' -> bool, numbers -> float,
    None/'None'/'null'/'' -> None, other strings stripped."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return None if isinstance(value, float) and math.isnan(value) else float(value)
    text = str(value).strip()
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("", "none", "null", "nan"):
        return None
    try:
        return float(text)
    except ValueError:
        return text


def matches(config: dict, match: dict) -> bool:
    """True when ``config`` has, for every key of ``match``, the value (or one of the values) given."""
    for key, wanted in match.items():
        options = wanted if isinstance(wanted, list) else [wanted]
        if key not in config or config[key] is None:
            if not any(normalise(o) is None or o == ABSENT for o in options):
                return False
            continue
        have = normalise(config[key])
        if not any(o != ABSENT and normalise(o) == have for o in options):
            return False
    return True


# ----------------------------------------------------------------------------------------- loading


def available_studies(study_dir: Path | str = STUDY_DIR) -> list[str]:
    """Names of the study specs in ``study_dir``."""
    return sorted(p.stem for p in Path(study_dir).glob("*.yaml"))


def study_path(name: str, study_dir: Path | str = STUDY_DIR) -> Path:
    """The spec file of study ``name``; an unknown name raises listing the available studies."""
    path = Path(study_dir) / f"{name}.yaml"
    if not path.is_file():
        raise StudyError(f"unknown study {name!r}; available studies: {', '.join(available_studies(study_dir))} "
                         f"(specs in {study_dir})")
    return path


def load_study(name_or_path: str | Path, study_dir: Path | str = STUDY_DIR) -> Study:
    """Read and validate a study spec, by name (``table1``) or by path to its YAML file."""
    p = Path(name_or_path)
    path = p if p.suffix in (".yaml", ".yml") and p.is_file() else study_path(str(name_or_path), study_dir)
    with open(path) as f:
        raw = yaml.safe_load(f)
    return parse_study(raw, path)


def _err(path: Path | None, key: str, msg: str) -> StudyError:
    return StudyError(f"{path or '<study spec>'}: key {key!r}: {msg}")


def _resolve_datasets(value: Any, path: Path | None, key: str) -> list[str]:
    if isinstance(value, str):
        if value not in FAMILIES:
            raise _err(path, key, f"unknown dataset family {value!r}; use one of {sorted(FAMILIES)} or a list of ids")
        return list(FAMILIES[value])
    if not isinstance(value, list) or not value:
        raise _err(path, key, "must be a family name or a non-empty list of dataset ids")
    out = []
    for d in value:
        try:
            out.append(get_dataset(str(d)).name)
        except ValueError as exc:
            raise _err(path, key, str(exc)) from None
    return list(dict.fromkeys(out))


def parse_study(raw: Any, path: Path | None = None) -> Study:
    """Validate a spec already read from YAML (``path`` is only used in error messages)."""
    if not isinstance(raw, dict):
        raise _err(path, "<top>", "a study spec must be a mapping")
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise _err(path, sorted(unknown)[0], f"unknown key; allowed keys are {sorted(_TOP_KEYS)}")
    for key in ("name", "datasets", "rows", "sweeps", "columns"):
        if key not in raw:
            raise _err(path, key, "missing")
    name = str(raw["name"])
    kind = raw.get("kind", "user")
    if kind not in KINDS:
        raise _err(path, "kind", f"{kind!r} is not one of {list(KINDS)} (omit it for your own study)")
    if path is not None and path.stem != name:
        raise _err(path, "name", f"{name!r} differs from the file name {path.stem!r}")
    datasets = _resolve_datasets(raw["datasets"], path, "datasets")
    rows = raw["rows"]
    if rows not in ROW_KEYS:
        raise _err(path, "rows", f"{rows!r} is not one of {list(ROW_KEYS)}")

    sweeps = raw["sweeps"]
    if not isinstance(sweeps, list) or not sweeps:
        raise _err(path, "sweeps", "must be a non-empty list of blocks")
    blocks = []
    for i, block in enumerate(sweeps):
        where = f"sweeps[{i}]"
        if not isinstance(block, dict):
            raise _err(path, where, "must be a mapping of key -> list of values")
        for key in REQUIRED_SWEEP_KEYS:
            if key not in block:
                raise _err(path, f"{where}.{key}", "missing")
        clean = {}
        for key, values in block.items():
            if key not in PLAIN_KEYS and "." not in key:
                raise _err(path, f"{where}.{key}", f"not a group key {list(PLAIN_KEYS)} nor a dotted override")
            values = values if isinstance(values, list) else [values]
            if not values:
                raise _err(path, f"{where}.{key}", "empty list of values")
            clean[key] = values
        if "dataset" in clean:
            clean["dataset"] = _resolve_datasets(clean["dataset"], path, f"{where}.dataset")
        if "multiplier" not in clean:
            if any(uses_multiplier(a) for a in clean["augmenter"]) and BUDGET_KEY not in clean:
                raise _err(path, f"{where}.multiplier", "missing (required unless every augmenter is 'none')")
            clean["multiplier"] = [0]
        for m in clean["multiplier"]:
            if not isinstance(m, int) or isinstance(m, bool) or m < 0:
                raise _err(path, f"{where}.multiplier", f"{m!r} is not a non-negative integer")
        for s in clean["seed"]:
            if not isinstance(s, int) or isinstance(s, bool):
                raise _err(path, f"{where}.seed", f"{s!r} is not an integer")
        blocks.append(clean)

    cols = raw["columns"]
    if not isinstance(cols, list) or not cols:
        raise _err(path, "columns", "must be a non-empty list of {label, match}")
    columns = []
    for i, c in enumerate(cols):
        where = f"columns[{i}]"
        if not isinstance(c, dict) or "label" not in c or not isinstance(c.get("match"), dict):
            raise _err(path, where, "each column needs a 'label' and a 'match' mapping")
        extra = set(c) - {"label", "match", "group", "x", "series", "panel"}
        if extra:
            raise _err(path, f"{where}.{sorted(extra)[0]}", "unknown column key")
        columns.append(Column(label=str(c["label"]), match=dict(c["match"]), group=str(c.get("group", "")),
                              x=c.get("x"), series=str(c.get("series", "")), panel=str(c.get("panel", ""))))
    labels = [c.label for c in columns]
    if len(set(labels)) != len(labels):
        raise _err(path, "columns", "column labels must be unique")

    quick = raw.get("quick") or {}
    if not isinstance(quick, dict) or set(quick) - {"datasets", "seeds", "detectors"}:
        raise _err(path, "quick", "must be a mapping with datasets / seeds / detectors")
    quick = dict(quick)
    if "datasets" in quick:
        quick["datasets"] = _resolve_datasets(quick["datasets"], path, "quick.datasets")
        outside = [d for d in quick["datasets"] if d not in datasets]
        if outside:
            raise _err(path, "quick.datasets", f"{outside} are not among the study's datasets")

    column_mode = raw.get("column_mode", "first")
    if column_mode not in ("first", "all"):
        raise _err(path, "column_mode", "must be 'first' or 'all'")
    best_within = raw.get("best_within", "row")
    if best_within not in ("row", "group"):
        raise _err(path, "best_within", "must be 'row' or 'group'")
    figure = raw.get("figure")
    if figure is not None and not isinstance(figure, dict):
        raise _err(path, "figure", "must be a mapping")

    extra_rows = raw.get("extra_rows") or []
    row_values = {str(v) for b in blocks for v in b.get(rows, [])}
    if not isinstance(extra_rows, list) or (rows != "dataset" and set(map(str, extra_rows)) - row_values):
        raise _err(path, "extra_rows", f"must be a list of row values of the study ({sorted(row_values)})")
    compare = raw.get("compare") or {}
    if not isinstance(compare, dict) or set(compare) - {"baseline", "reference"}:
        raise _err(path, "compare", "must be a mapping with baseline and/or reference column labels")
    unknown = [v for v in compare.values() if v not in labels]
    if unknown:
        raise _err(path, "compare", f"{unknown} are not column labels ({labels})")
    selection = _parse_selection(raw.get("selection"), labels, path)
    if selection and compare:
        raise _err(path, "compare", "a study with 'selection' compares its selectors (Baseline, Oracle); drop 'compare'")
    study = Study(name=name, title=str(raw.get("title", name)), datasets=datasets, rows=rows, sweeps=blocks,
                  columns=columns, paper=raw.get("paper"), quick=quick, figure=figure, best_within=best_within,
                  column_mode=column_mode, extra_rows=[str(r) for r in extra_rows],
                  compare={k: str(v) for k, v in compare.items()}, path=path, kind=kind, selection=selection)
    # every configuration must land in a column, else the spec has a typo
    for config in expand(study, datasets=study.datasets[:1]):
        if not study.column_for(config):
            shown = {k: v for k, v in config.items() if k != "dataset"}
            raise _err(path, "columns", f"no column matches the configuration {shown}")
    return study


def _parse_selection(raw: Any, labels: list[str], path: Path | None) -> dict | None:
    """The ``selection`` block: ``baseline`` and ``default`` (column labels; the candidates are the columns) and
    ``selectors``, each ``{label, signals: [metric, ...], goal: max|min}`` (the mean of the signals is used)."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - {"baseline", "default", "selectors"}:
        raise _err(path, "selection", "must be a mapping with baseline, default and selectors")
    for key in ("baseline", "default"):
        if raw.get(key) not in labels:
            raise _err(path, f"selection.{key}", f"{raw.get(key)!r} is not a column label ({labels})")
    if labels[0] != raw["baseline"]:
        raise _err(path, "columns", f"the baseline {raw['baseline']!r} must be the first column (ties go to it)")
    sels = raw.get("selectors")
    if not isinstance(sels, list) or not sels:
        raise _err(path, "selection.selectors", "must be a non-empty list of {label, signals, goal}")
    out, seen = [], set(BUILTIN_SELECTORS)
    for i, sel in enumerate(sels):
        where = f"selection.selectors[{i}]"
        if not isinstance(sel, dict) or set(sel) != {"label", "signals", "goal"}:
            raise _err(path, where, "needs exactly label, signals (a list of metric names) and goal (max | min)")
        if sel["goal"] not in SELECTOR_GOALS:
            raise _err(path, f"{where}.goal", f"{sel['goal']!r} is not one of {list(SELECTOR_GOALS)}")
        signals = sel["signals"] if isinstance(sel["signals"], list) else [sel["signals"]]
        if not signals or not all(isinstance(x, str) and x.startswith("val_") for x in signals):
            raise _err(path, f"{where}.signals", "must name label-free signals (metrics val_*, adbench_repro/signals.py)")
        if str(sel["label"]) in seen:
            raise _err(path, f"{where}.label", f"{sel['label']!r} is taken (built in: {list(BUILTIN_SELECTORS)})")
        seen.add(str(sel["label"]))
        out.append({"label": str(sel["label"]), "signals": [str(x) for x in signals], "goal": sel["goal"]})
    return {"baseline": raw["baseline"], "default": raw["default"], "selectors": out}


# ----------------------------------------------------------------------------------------- expansion


def parse_seeds(value: Any) -> list[int] | None:
    """Seeds as given on a command line or in Python -> a list of ints, in order, without repeats:
    ``"0-4"``, ``"0,2,5-7"``, ``3``, ``range(5)``, ``["0", 1]``; None stays None. A bad one raises
    :class:`StudyError` with the valid forms."""
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else [value] if isinstance(value, int) else list(value)
    out: list[int] = []
    for item in items:
        text = str(item).strip()
        m = re.fullmatch(r"(\d+)\s*-\s*(\d+)", text)
        if m and int(m.group(1)) <= int(m.group(2)):
            out += range(int(m.group(1)), int(m.group(2)) + 1)
        elif re.fullmatch(r"\d+", text) and not isinstance(item, (bool, float)):
            out.append(int(text))
        else:
            raise StudyError(f"seeds: {item!r} is not a seed or a range; write e.g. 0-4, 0,1,2 or 0,2,5-7 "
                             "(in Python also range(5) or [0, 1])")
    return list(dict.fromkeys(out))


def parse_names(value: Any) -> list[str] | None:
    """Names as given on a command line or in Python (``"mlp,deepsad"`` or a list) -> a list; None stays None."""
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    return list(dict.fromkeys(str(v).strip() for v in items if str(v).strip()))


def _dataset_ids(study: Study, names: list[str]) -> list[str]:
    """Dataset ids for ``--datasets`` values: ids, short names' errors with "did you mean", families expanded."""
    out = []
    for name in names:
        if name in FAMILIES:
            out += FAMILIES[name]
            continue
        try:
            out.append(get_dataset(name).name)
        except ValueError as exc:
            raise StudyError(f"study {study.name!r}: {exc}") from None
    return list(dict.fromkeys(out))


def widen(study: Study, detectors: Iterable[str] | str | None = None, datasets: Iterable[str] | str | None = None,
          seeds: Any = None) -> Study:
    """``study`` widened by the detectors, datasets and seeds it does not use yet (``reproduce --seeds 0-4``):
    a new seed or detector joins every sweep block, a new dataset the study's datasets (blocks with their own
    ``dataset`` list keep it), so the widened configurations are planned, reused and run like the spec's.
    Values the study already uses change nothing (they filter, in :func:`expand`); with nothing new the study
    is returned as it is. A widened study is the user's own (``kind: user``: its table goes to
    ``results/studies/<name>/``, never over the committed results) and its title says what was added.

    An unknown detector or dataset raises :class:`StudyError` with "did you mean"; so does a widened
    configuration that no column of the spec matches.
    """
    from .validate import check_value

    seeds, detectors, datasets = parse_seeds(seeds), parse_names(detectors), parse_names(datasets)
    used_seeds = {s for b in study.sweeps for s in b["seed"]}
    used_dets = {d for b in study.sweeps for d in b["detector"]}
    new_seeds = [s for s in seeds or [] if s not in used_seeds]
    new_dets = [d for d in detectors or [] if d not in used_dets]
    new_ds = [d for d in _dataset_ids(study, datasets or []) if d not in study.datasets]
    for key, values in (("seed", new_seeds), ("detector", new_dets)):
        for v in values:
            problem = check_value(key, v)
            if problem:
                raise StudyError(f"study {study.name!r}: {problem}")
    if not (new_seeds or new_dets or new_ds):
        return study
    if new_ds and all("dataset" in b for b in study.sweeps):
        raise StudyError(f"study {study.name!r}: every sweep block lists its own datasets, so dataset(s) {new_ds} "
                         "would join none; add them to a block of the spec")
    sweeps = [{**b, "seed": b["seed"] + new_seeds, "detector": b["detector"] + new_dets} for b in study.sweeps]
    quick = dict(study.quick)
    for key, values in (("seeds", new_seeds), ("detectors", new_dets), ("datasets", new_ds)):
        if key in quick and values:  # what is asked for by name is in the QUICK table too
            quick[key] = list(quick[key]) + values
    added = [f"{what} {', '.join(map(str, values))}" for what, values in
             (("seeds", new_seeds), ("detectors", new_dets), ("datasets", new_ds)) if values]
    wide = replace(study, sweeps=sweeps, datasets=study.datasets + new_ds, quick=quick, kind="user",
                   title=f"{study.title} (widened beyond its spec: {'; '.join(added)})")
    for config in _product(wide, wide.datasets[:1] + new_ds[:1]):
        if (config["seed"] in new_seeds or config["detector"] in new_dets or config["dataset"] in new_ds) \
                and not wide.column_for(config):
            shown = {k: v for k, v in config.items() if k != "dataset"}
            raise StudyError(f"study {study.name!r}: the widened configuration {shown} matches no column of the "
                             f"spec ({', '.join(c.label for c in study.columns)}); widen it in the spec instead")
    return wide


def expand(study: Study | str, quick: bool = False, detectors: Iterable[str] | str | None = None,
           datasets: Iterable[str] | str | None = None, seeds: Any = None) -> list[dict]:
    """One dict of Hydra overrides per run configuration of ``study``, deduplicated, in a stable order.

    ``quick`` restricts to the spec's ``quick`` subset (datasets, seeds, and detectors; by default all
    but :data:`QUICK_EXCLUDED_DETECTORS`). ``detectors`` / ``datasets`` / ``seeds`` select (after ``quick``;
    ``seeds`` and ``datasets`` replace its lists): values the study uses restrict it, values it does not use
    widen it first (:func:`widen`). Seeds may be ranges (``"0-4"``), datasets families; an unknown detector or
    dataset raises ``StudyError``.
    """
    if isinstance(study, str):
        study = load_study(study)
    seeds, detectors, datasets = parse_seeds(seeds), parse_names(detectors), parse_names(datasets)
    study = widen(study, detectors, datasets, seeds)
    ds_all = list(study.datasets)
    seeds_keep = None
    det_keep = None
    if quick:
        ds_all = list(study.quick.get("datasets", ds_all))
        seeds_keep = set(study.quick.get("seeds", [0]))
        det_keep = set(study.quick["detectors"]) if "detectors" in study.quick else None
    if detectors is not None:
        det_keep = set(detectors)
    if seeds is not None:  # replaces the (quick) seed list
        seeds_keep = set(seeds)
    if datasets is not None:  # replaces the (quick) dataset list
        ds_all = _dataset_ids(study, datasets)
    return _product(study, ds_all, quick, seeds_keep, det_keep)


def _product(study: Study, ds_all: list[str], quick: bool = False, seeds_keep: set | None = None,
             det_keep: set | None = None) -> list[dict]:
    """The configurations of ``study``'s sweep blocks on the datasets ``ds_all``, with the seed and detector
    filters of :func:`expand`."""
    out: dict[tuple, dict] = {}
    for block in study.sweeps:
        keys = [k for k in block if k != "dataset"]
        block_ds = block.get("dataset", ds_all)
        block_ds = [d for d in block_ds if d in ds_all]
        for combo in itertools.product(*(block[k] for k in keys)):
            base = dict(zip(keys, combo))
            if seeds_keep is not None and base["seed"] not in seeds_keep:
                continue
            if det_keep is not None:
                if base["detector"] not in det_keep:
                    continue
            elif quick and base["detector"] in QUICK_EXCLUDED_DETECTORS:
                continue
            if not uses_multiplier(base["augmenter"]):
                base["multiplier"] = 0
                base.pop(BUDGET_KEY, None)  # nothing generated: the budget cannot matter (one Baseline run)
            elif base.get(BUDGET_KEY) is not None:
                base["multiplier"] = 0  # the training-row budget sets the count (adbench_repro/budget.py)
            for ds in block_ds:
                config = {"dataset": ds, "label_ratio": base["label_ratio"], "augmenter": base["augmenter"],
                          "multiplier": base["multiplier"], "detector": base["detector"], "seed": base["seed"]}
                config.update({k: v for k, v in base.items() if k not in config})
                key = tuple(sorted((k, repr(normalise(v))) for k, v in config.items()))
                out.setdefault(key, config)
    return list(out.values())


def to_override_list(config: dict) -> list[str]:
    """Hydra command-line overrides for one expanded configuration (``key=value`` strings)."""
    def fmt(v: Any) -> str:
        if isinstance(v, bool):
            return str(v).lower()
        return str(v)
    return [f"{k}={fmt(v)}" for k, v in config.items()]


def dump_study(study: Study) -> str:
    """A short human-readable summary (used by ``python -m adbench_repro.aggregate --list``)."""
    n = len(expand(study))
    nq = len(expand(study, quick=True))
    return f"{study.name:8s} {n:6d} runs ({nq} quick)  {study.title}"


def _main(argv: list[str] | None = None) -> None:  # pragma: no cover - thin CLI
    import argparse
    import json

    ap = argparse.ArgumentParser(prog="python -m adbench_repro.studies",
                                 description="List studies, or print the run configurations of one study.")
    ap.add_argument("study", nargs="?")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--format", choices=["json", "overrides"], default="overrides")
    args = ap.parse_args(argv)
    if not args.study:
        for name in available_studies():
            print(dump_study(load_study(name)))
        return
    for config in expand(load_study(args.study), quick=args.quick):
        print(json.dumps(config) if args.format == "json" else " ".join(to_override_list(config)))


if __name__ == "__main__":  # pragma: no cover
    _main()
