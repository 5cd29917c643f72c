"""Command line behind the Makefile: ``python -m gazex_lib.run {data,notebooks,env-sync}``.

* ``data``: resolve ``--data-root`` (``None``: generate the synthetic dataset once, into the cache).
* ``notebooks``: execute every ``notebooks/NN_*.ipynb`` in order with papermill, injecting the
  contract parameters (``profile, data_root, model_path, output_dir, seed``), into
  ``--executed-dir`` (the book renders those copies; the committed notebooks stay untouched).
* ``refresh``: re-execute the committed notebooks in place with their default (ci) parameters,
  so the outputs stored in git are the ones ``pytest --nbval`` compares against.
* ``env-sync``: rewrite ``environment.yml`` from ``requirements.txt``.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from gazex_lib import config

NOTEBOOK_PATTERN = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")


def notebook_paths(folder: Path | None = None) -> list[Path]:
    """The book's notebooks, in reading order (``NN_name.ipynb``)."""
    folder = folder or config.REPO_ROOT / "notebooks"
    return sorted(p for p in folder.iterdir() if NOTEBOOK_PATTERN.match(p.name))


def _parameters(args: argparse.Namespace) -> dict:
    return {"profile": args.profile, "data_root": args.data_root, "model_path": args.model_path,
            "output_dir": args.output_dir, "seed": args.seed}


def cmd_data(args: argparse.Namespace) -> int:
    cfg = config.load_config(args.profile)
    t0 = time.perf_counter()
    root = config.resolve_data_root(args.data_root, cfg, args.seed)
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    print(f"data_root: {root}  ({size / 1e6:.1f} MB, {time.perf_counter() - t0:.1f} s)")
    return 0


def cmd_notebooks(args: argparse.Namespace) -> int:
    import papermill as pm

    out_dir = Path(args.executed_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    params = _parameters(args)
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
    for name in ("data", "notebooks"):
        p = sub.add_parser(name)
        p.add_argument("--profile", default="ci", choices=config.PROFILES)
        p.add_argument("--data-root", default=None)
        p.add_argument("--model-path", default=None)
        p.add_argument("--output-dir", default=None)
        p.add_argument("--seed", type=int, default=0)
        if name == "notebooks":
            p.add_argument("--executed-dir", default=str(config.REPO_ROOT / "book" / "notebooks"))
    sub.add_parser("env-sync")
    p = sub.add_parser("refresh")
    p.add_argument("only", nargs="*", help="notebook file names (default: all)")
    args = parser.parse_args(argv)
    handler = {"data": cmd_data, "notebooks": cmd_notebooks, "env-sync": cmd_env_sync,
               "refresh": cmd_refresh}[args.command]
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
