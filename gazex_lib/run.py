"""Command line behind the Makefile: ``python -m gazex_lib.run {data,stage,notebooks,refresh,check-data,labeller-agreement,env-sync}``.

* ``data``: resolve ``--data-root`` through :func:`gazex_lib.setup` (ci: ``None`` generates the
  synthetic dataset once, into the cache; full: a real folder, or ``synthetic`` by name).
* ``stage NAME``: build (or reuse) one cached stage (``keyframes``, ``pretraining``,
  ``heldout_answers``) with the same key a notebook would use, e.g. a multi-day GPU job outside
  a papermill kernel: ``accelerate launch -m gazex_lib.run stage pretraining --profile full
  --data-root ... --model-path ...``. ``--set train.max_steps=3`` overrides a config key,
  ``--force`` rebuilds.
* ``notebooks``: execute every ``notebooks/NN_*.ipynb`` in order with papermill, injecting the
  contract parameters (``profile, data_root, model_path, output_dir, seed``), into
  ``--executed-dir`` (the book renders those copies; the committed notebooks stay untouched).
* ``refresh``: re-execute the committed notebooks in place with their default (ci) parameters,
  so the outputs stored in git are the ones ``pytest --nbval`` compares against.
* ``check-data``: validate every file under the data root in one pass
  (:mod:`gazex_lib.data.check`): datasets present, every structural error (file, line,
  column), domain faults, folder issues, the quality report; ``--checksums`` verifies
  ``SHA256SUMS.txt``, ``--strict`` fails on domain faults too. Exit status 1 when not OK.
* ``labeller-agreement``: label a CSV's report column with CheXbert (``labeller.chexbert_path``
  and ``labeller.tokenizer_path``, or ``--chexbert-path`` / ``--tokenizer-path``) and with the
  rule-based fallback, and print the fallback's per-label agreement with CheXbert
  (:func:`gazex_lib.eval.labellers.labeller_agreement`); ``--out FILE.csv`` saves the table.
* ``env-sync``: rewrite ``environment.yml`` from ``requirements.txt``.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from gazex_lib import config
from gazex_lib.runtime import SetupError

NOTEBOOK_PATTERN = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")


def notebook_paths(folder: Path | None = None) -> list[Path]:
    """The book's notebooks, in reading order (``NN_name.ipynb``)."""
    folder = folder or config.REPO_ROOT / "notebooks"
    return sorted(p for p in folder.iterdir() if NOTEBOOK_PATTERN.match(p.name))


def _parameters(args: argparse.Namespace) -> dict:
    return {"profile": args.profile, "data_root": args.data_root, "model_path": args.model_path,
            "output_dir": args.output_dir, "seed": args.seed}


def _overrides(pairs) -> dict:
    """``["train.max_steps=3", ...]`` -> ``{"train.max_steps": 3}`` (values parsed as YAML)."""
    import yaml

    out = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SetupError(f"--set takes KEY=VALUE (e.g. train.max_steps=3), got {pair!r}")
        out[key.strip()] = yaml.safe_load(value)
    return out


def _setup(args: argparse.Namespace, **extra):
    import gazex_lib

    return gazex_lib.setup(args.profile, args.data_root, args.model_path, args.output_dir,
                           args.seed, **_overrides(getattr(args, "set", None)), **extra)


def cmd_data(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    root = _setup(args).data_root
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    print(f"data_root: {root}  ({size / 1e6:.1f} MB, {time.perf_counter() - t0:.1f} s)")
    return 0


def cmd_check_data(args: argparse.Namespace) -> int:
    """Validate every file under the data root (gazex_lib.data.check); exit 1 when not OK."""
    from gazex_lib.data.check import check_data

    root = _setup(args, **{"data.check_before_run": False}).data_root
    t0 = time.perf_counter()
    found = check_data(root, checksums=args.checksums, strict=args.strict)
    print(f"data_root: {root}")
    print(found.summary())
    print(f"checked in {time.perf_counter() - t0:.1f} s")
    return 0 if found.ok else 1


def cmd_labeller_agreement(args: argparse.Namespace) -> int:
    """The rule-based fallback's per-label agreement with CheXbert on a CSV of reports."""
    import pandas as pd

    from gazex_lib.eval.labellers import CheXbertLabeller, CheXbertLoadError, RuleLabeller, labeller_agreement

    section = config.load_config(args.profile, **_overrides(args.set)).labeller
    ckpt = args.chexbert_path or section.chexbert_path
    tok = args.tokenizer_path or section.tokenizer_path
    if ckpt is None or tok is None:
        raise SetupError("labeller-agreement needs CheXbert: set labeller.chexbert_path and "
                         "labeller.tokenizer_path (or pass --chexbert-path and --tokenizer-path)")
    path = Path(args.reports)
    if not path.is_file():
        raise FileNotFoundError(f"reports file not found: {path}")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if args.column not in frame.columns:
        raise SetupError(f"{path}: no column {args.column!r} (columns: {list(frame.columns)}); "
                         "pass --column")
    texts = frame[args.column].tolist()
    cache = None if args.no_cache else config.cache_dir() / "labels"
    try:
        chexbert = CheXbertLabeller(ckpt, tok, batch_size=section.batch_size, device=section.device,
                                    cache_dir=cache)
    except CheXbertLoadError as exc:
        raise SetupError(str(exc)) from exc
    table = labeller_agreement(chexbert.label(texts), RuleLabeller(cache_dir=cache).label(texts))
    print(f"{len(texts)} reports from {path} (column {args.column!r}); reference: CheXbert, "
          "other: the rule-based fallback")
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    if args.out:
        table.to_csv(args.out)
        print(f"saved {args.out}")
    return 0


def cmd_stage(args: argparse.Namespace) -> int:
    from gazex_lib.pipelines import STAGE_RUNNERS

    if args.name not in STAGE_RUNNERS:
        raise SetupError(f"unknown stage {args.name!r}: use one of {', '.join(STAGE_RUNNERS)}")
    force = {"stages.force": [args.name]} if args.force else {}
    info = STAGE_RUNNERS[args.name](_setup(args, **force))
    print(f"{info.name}: {config.display_path(info.directory)}")
    return 0


def cmd_notebooks(args: argparse.Namespace) -> int:
    import papermill as pm

    out_dir = Path(args.executed_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    params = _parameters(args)
    _setup(args)   # fail fast, with one line, on a bad profile, folder or checkpoint
    if args.set:
        params["overrides"] = _overrides(args.set)
    for nb in notebook_paths():
        t0 = time.perf_counter()
        print(f"--- {nb.name} ({args.profile})", flush=True)
        pm.execute_notebook(str(nb), str(out_dir / nb.name), parameters=params,
                            kernel_name="python3", cwd=str(nb.parent), progress_bar=False,
                            log_output=False)
        print(f"    done in {time.perf_counter() - t0:.1f} s", flush=True)
    return 0


def cmd_refresh(args: argparse.Namespace) -> int:
    """Execute each notebook in place (nbclient, no timing metadata, so diffs stay meaningful)."""
    import nbformat
    from nbclient import NotebookClient

    for nb_path in notebook_paths():
        if args.only and nb_path.name not in args.only:
            continue
        t0 = time.perf_counter()
        nb = nbformat.read(nb_path, as_version=4)
        NotebookClient(nb, kernel_name="python3", timeout=3600, record_timing=False,
                       resources={"metadata": {"path": str(nb_path.parent)}}).execute()
        nb.metadata.pop("widgets", None)
        nbformat.write(nb, nb_path)
        print(f"{nb_path.name}: refreshed in {time.perf_counter() - t0:.1f} s", flush=True)
    return 0


def env_yaml(requirements: str) -> str:
    """``environment.yml`` text wrapping the pinned pip requirements (no conda-only pins)."""
    pins = [ln.strip() for ln in requirements.splitlines() if ln.strip() and not ln.startswith("#")]
    lines = ["# Generated from requirements.txt by `make env-sync`; tests/test_config.py keeps them in sync.",
             "# There is no conda on the CI machines: this wraps the same pip pins.",
             "name: gazex", "channels:", "  - conda-forge", "dependencies:", "  - python=3.11",
             "  - pip", "  - openjdk=17  # METEOR (pycocoevalcap) runs on Java", "  - pip:"]
    lines += [f"      - {p}" for p in pins]
    lines += ["      - -e ."]
    return "\n".join(lines) + "\n"


def cmd_env_sync(args: argparse.Namespace) -> int:
    req = (config.REPO_ROOT / "requirements.txt").read_text()
    (config.REPO_ROOT / "environment.yml").write_text(env_yaml(req))
    print("environment.yml rewritten from requirements.txt")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gazex_lib.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("data", "notebooks", "stage", "check-data"):
        p = sub.add_parser(name)
        if name == "stage":
            p.add_argument("name", help="keyframes, pretraining or heldout_answers")
            p.add_argument("--force", action="store_true", help="rebuild even if it exists")
        p.add_argument("--profile", default="ci")
        p.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="override a config key (repeatable), e.g. train.max_steps=3")
        p.add_argument("--data-root", default=None)
        p.add_argument("--model-path", default=None)
        p.add_argument("--output-dir", default=None)
        p.add_argument("--seed", type=int, default=0)
        if name == "notebooks":
            p.add_argument("--executed-dir", default=str(config.REPO_ROOT / "book" / "notebooks"))
        if name == "check-data":
            p.add_argument("--checksums", action="store_true",
                           help="also verify PhysioNet's SHA256SUMS.txt (reads every byte)")
            p.add_argument("--strict", action="store_true",
                           help="domain faults (counted by default) fail the check too")
    p = sub.add_parser("labeller-agreement")
    p.add_argument("--reports", required=True, help="a CSV with one report per row")
    p.add_argument("--column", default="Report Impression",
                   help="the report column (default: CheXbert's own 'Report Impression')")
    p.add_argument("--profile", default="ci")
    p.add_argument("--set", action="append", metavar="KEY=VALUE")
    p.add_argument("--chexbert-path", default=None)
    p.add_argument("--tokenizer-path", default=None)
    p.add_argument("--out", default=None, help="save the table as CSV")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the label cache")
    sub.add_parser("env-sync")
    p = sub.add_parser("refresh")
    p.add_argument("only", nargs="*", help="notebook file names (default: all)")
    args = parser.parse_args(argv)
    handler = {"data": cmd_data, "notebooks": cmd_notebooks, "env-sync": cmd_env_sync,
               "refresh": cmd_refresh, "stage": cmd_stage,
               "check-data": cmd_check_data, "labeller-agreement": cmd_labeller_agreement}[args.command]
    try:
        return handler(args)
    except (SetupError, FileNotFoundError) as exc:   # a user's mistake: one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
