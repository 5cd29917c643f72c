"""Notebook tests: assertions on the result JSON of the book build, and small papermill runs.

* The ci book (``make book``, run before the tests by ``make test``) writes
  ``results/ci/<stem>.json``; the tests that need a chapter's numbers read that file instead of
  running the chapter again. A missing file is a failure that says to build the book.
* Small-parameter runs check that parameters flow through and that reruns are byte-identical.
* A smoke test runs chapters 01-03 in the **full** profile, by parameters alone, on a small
  fake tree and the tiny model saved as a checkpoint folder.

(`pytest --nbval notebooks/` separately re-executes the committed notebooks, reusing the
book's stages, and compares every stored output.)
"""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from gazex_lib.config import load_config
from gazex_lib.data.synthetic import load_truth
from gazex_lib.run import notebook_paths

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = {"profile", "data_root", "model_path", "output_dir", "seed"}


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.name)
def test_notebook_has_one_parameters_cell_with_the_contract(path):
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    names = {line.split("=")[0].strip() for line in cells[0].source.splitlines() if "=" in line}
    assert CONTRACT <= names
    # skeleton: title, overview, prerequisites, summary
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for heading in ("## Overview", "## Prerequisites", "## Parameters", "## Summary"):
        assert heading in text, heading


def book_results(stem: str) -> dict:
    """``results/ci/<stem>.json`` of the ci book build (fails, never skips, when missing)."""
    path = ROOT / "results" / "ci" / f"{stem}.json"
    if not path.is_file():
        pytest.fail(f"{path.relative_to(ROOT)} is missing: build the ci book first "
                    "(`make book`; `make test` does it before the tests)")
    return json.loads(path.read_text())


def _run(name: str, tmp_path: Path, **params) -> dict:
    out = tmp_path / "out"
    pm.execute_notebook(str(ROOT / "notebooks" / name), str(tmp_path / name),
                        parameters={"output_dir": str(out), **params}, kernel_name="python3",
                        cwd=str(ROOT / "notebooks"), progress_bar=False)
    return json.loads((out / name.replace(".ipynb", ".json")).read_text())


def test_data_exploration_on_a_given_data_root(small_synthetic, tmp_path):
    root, summary = small_synthetic
    res = _run("01_data_exploration.ipynb", tmp_path, data_root=str(root))
    assert res["parameters"]["data_root"] == str(root)
    r = res["results"]
    truth = load_truth(root)
    readings = truth["readings"]
    kept = [t for t in readings.values() if not t["discarded"]]
    assert r["n_readings"] == 22 and r["readings_per_phase"] == {"1": 5, "2": 5, "3": 12}
    assert r["n_discarded"] == summary["n_discarded"]
    assert r["n_images"] == 14
    assert r["readings_per_reader"] and sum(r["readings_per_reader"].values()) == 22
    assert r["n_sentences"] == sum(len(t["sentences"]) for t in kept)
    assert r["n_fixations"] == sum(t["n_fixations"] for t in kept)
    assert r["quality"]["nan_gaze_samples"]["count"] == sum(t["n_nan_samples"] for t in kept)
    assert r["quality"]["sentences_without_gaze"]["count"] == sum(
        s["no_gaze"] for t in kept for s in t["sentences"])
    # the simulation's 1000 Hz clock and nominal px/deg (config: 30) come back
    assert r["median_pixels_per_degree"] == pytest.approx(30, abs=1.0)
    assert 150 <= r["median_fixation_duration_ms"] <= 450
    assert r["example_reading"] in readings
    # the downstream section: every layout present, counts as generated
    down, made = r["downstream"], summary["downstream"]
    assert down["absent"] == []
    assert down["splits"]["MIMIC-CXR reports"]["total"] == 14 + made["mimic_studies"]
    assert down["splits"]["IU X-ray"]["total"] == made["iu_reports"]
    assert down["splits"]["Medical-CXR-VQA"]["total"] == made["vqa_questions"]
    assert down["labeller_truth_agreement"] == 1.0
    assert set(down["leakage"]) == {"ours", "official"}


def test_data_exploration_without_the_downstream_datasets(small_synthetic, tmp_path):
    """A data root with REFLACX and MIMIC-CXR only: chapter 01 still runs and names what is absent."""
    root, _ = small_synthetic
    partial = tmp_path / "data"
    partial.mkdir()
    for name in ("reflacx", "mimic-cxr-jpg", "mimic-cxr"):
        (partial / name).symlink_to(root / name, target_is_directory=True)
    res = _run("01_data_exploration.ipynb", tmp_path, data_root=str(partial))
    down = res["results"]["downstream"]
    assert down["absent"] == ["IU X-ray", "MS-CXR", "Medical-CXR-VQA"]
    assert list(down["splits"]) == ["MIMIC-CXR reports"]
    assert down["labeller_truth_agreement"] is None          # no synthetic truth sidecar here


def test_gaze_processing_on_a_given_data_root(small_synthetic, tmp_path):
    root, _ = small_synthetic
    res = _run("02_gaze_processing.ipynb", tmp_path, data_root=str(root))
    r = res["results"]
    truth = load_truth(root)
    kept = [t for t in truth["readings"].values() if not t["discarded"]]
    n_sentences = sum(len(t["sentences"]) for t in kept)
    # one holistic frame per sentence: frames and sentences stay aligned
    assert r["n_sentences"] == r["n_holistic_frames"] == n_sentences
    assert r["n_frames"] == r["n_holistic_frames"] + r["n_cluster_frames"]
    assert r["sentences_by_status"].get("no_gaze", 0) == sum(s["no_gaze"] for t in kept for s in t["sentences"])
    ex = r["example_dbscan_exactness"]
    assert ex["windows_checked"] > 0 and ex["windows_identical"] == ex["windows_checked"]
    count = r["keyframe_count"]
    assert count["readings"] == len(kept)
    assert count["extrapolated_frames"] == round(r["n_frames"] / len(kept) * 3032)
    # the two map recipes look at the same places
    assert r["map_recipe_correlation"] > 0.5


def test_pretraining_runs_on_a_given_data_root_and_is_deterministic(small_synthetic, tmp_path):
    """Chapter 03 with small parameters on another data root, twice into two output folders:
    the parameters flow through, the run is as short as asked, and the result JSON is
    byte-identical (seeded); a third run into the first folder reuses every stage."""
    root, _ = small_synthetic
    params = dict(data_root=str(root), max_steps=3, heldout_max_per_task=2)
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
    first = _run("03_pretraining.ipynb", tmp_path / "a", **params)
    second = _run("03_pretraining.ipynb", tmp_path / "b", **params)
    for res in (first, second):
        res["parameters"].pop("output_dir")
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    r = first["results"]
    assert first["parameters"]["data_root"] == str(root) and r["train"]["steps"] == 3
    assert first["parameters"]["overrides"] == {"train.max_steps": 3, "heldout.max_per_task": 2}
    assert set(r["readings"]["held_out"]) == {"1", "2"}          # multi-reader phases held out
    details = r["heldout_details"]
    assert all(v["kept"] <= 2 for v in details["records"]["tasks"].values())
    assert set(first["provenance"]["stages"]) == {"keyframes", "pretraining", "pretraining_image_blind",
                                                  "checkpoint_selection", "heldout_answers"}
    assert (tmp_path / "a" / "out" / r["adapter_dir"] / "adapter_config.json").is_file()
    # asked again: every stage is reused, and the notebook says so
    again_nb = tmp_path / "a" / "again.ipynb"
    pm.execute_notebook(str(ROOT / "notebooks" / "03_pretraining.ipynb"), str(again_nb),
                        parameters={"output_dir": str(tmp_path / "a" / "out"), **params},
                        kernel_name="python3", cwd=str(ROOT / "notebooks"), progress_bar=False)
    text = "".join(o.get("text", "") for c in nbformat.read(again_nb, 4).cells
                   if c.cell_type == "code" for o in c.get("outputs", []))
    for stage in ("keyframes", "pretraining", "pretraining_image_blind", "checkpoint_selection",
                  "heldout_answers"):
        assert f"stage {stage} [" in text and "]: reused (built in" in text
    assert "]: built in" not in text


def test_pretraining_result_blocks_on_the_test_split():
    """Chapter 03 as the ci book ran it (its result file; the chapter is not run again): the
    held-out blocks on the test and validation splits, every baseline, and a planted-effect
    block that is consistent with them."""
    from gazex_lib.eval import PROBE_METRICS

    res = book_results("03_pretraining")
    r = res["results"]
    sources = {"trained", "untrained", "trivial", "input_ignoring", "text_only", "image_blind"}
    assert set(r["heldout"]) == sources
    assert set(r["validation"]) == sources - {"untrained", "image_blind"}
    for block in ("heldout", "validation"):
        assert all(set(v) == set(PROBE_METRICS) for v in r[block].values())
    # the step was chosen on validation, among the kept checkpoints, by the stated criterion
    sel = r["selection"]
    assert str(sel["chosen_step"]) in sel["validation_by_step"] and len(sel["validation_by_step"]) >= 2
    assert sel["mean_rank"][str(sel["chosen_step"])] == min(sel["mean_rank"].values())
    assert r["validation"]["trained"] == pytest.approx(sel["validation_by_step"][str(sel["chosen_step"])])
    assert r["train"]["final_loss"] < 0.3 * r["train"]["first_loss"]   # it fits its training set
    assert r["heldout_details"]["parsed"]["trained"] > r["heldout_details"]["parsed"]["untrained"]
    # test = phase-3 test readings + the multi-reader phases; validation = phase-3 validation
    assert set(r["heldout_details"]["records"]["readings_by_phase"]) == {"1", "2", "3"}
    assert set(r["heldout_details"]["validation_records"]["readings_by_phase"]) == {"3"}
    # the planted effect: the strongest input-ignoring or text-only baseline on test
    for metric, e in r["planted_effect"].items():
        assert e["image_blind"] == pytest.approx(r["heldout"]["image_blind"][metric])
        assert e["image_blind_ci"][0] <= e["trained"] - e["image_blind"] <= e["image_blind_ci"][1]
        higher = PROBE_METRICS[metric]
        cands = {b: r["heldout"][b][metric] for b in ("input_ignoring", "text_only")}
        best = max(cands.values()) if higher else min(cands.values())
        assert e["baseline"] == pytest.approx(best) == cands[e["best_baseline"]]
        assert e["trained"] == pytest.approx(r["heldout"]["trained"][metric])
        assert e["diff"] == pytest.approx(e["trained"] - e["baseline"])
        assert e["ci_low"] <= e["diff"] <= e["ci_high"] and e["n_images"] >= 1
    c = r["cutoff"]
    assert c["this_run"] <= c["this_run_max_length"]
    assert c["full_profile"] <= c["full_profile_max_length"]
    assert (ROOT / "results" / "ci" / r["adapter_dir"] / "adapter_model.safetensors").is_file()
    assert res["provenance"]["stages"]["pretraining"] in r["adapter_dir"]
    # the settings sweep behind the ci profile is recorded (validation only) and shown
    assert r["tuning"]["split"] == "validation" and "q10" in r["tuning"]["runs"]


def test_pretraining_ceiling_leaves_room_for_the_image():
    """The ceiling of chapter 03, measured before training (its result file): a perfect copy of
    the targets scores the scorer's best, the baselines score what the held-out block says, and
    on the test split a perfect reader of the planted findings beats the strongest baseline on
    FVP and on the path with an interval that excludes zero. This guards the synthetic data:
    a generator that leaves no room for a model that reads the image fails here."""
    r = book_results("03_pretraining")["results"]
    c = r["ceiling"]
    blocks = {"validation": r["validation"], "test": r["heldout"]}
    for split, block in c.items():
        perfect = block["scores"]["perfect"]
        assert perfect == {"fvp_iou": 1.0, "gtm_centroid_error_px": 0.0, "sda_order_accuracy": 1.0}
        for name in ("input_ignoring", "text_only"):
            assert block["scores"][name] == pytest.approx(blocks[split][name])
        for metric, e in block["room"].items():
            assert e["oracle"] == pytest.approx(block["scores"]["planted_oracle"][metric])
            assert e["diff"] == pytest.approx(e["oracle"] - e["baseline"])
            assert e["ci_low"] <= e["diff"] <= e["ci_high"] and e["detectable_difference"] > 0
    room = c["test"]["room"]
    assert room["fvp_iou"]["ci_low"] > 0, room["fvp_iou"]
    assert room["gtm_centroid_error_px"]["ci_high"] < 0, room["gtm_centroid_error_px"]


#: Measured on the ci book of 2026-12-01 (generator 4 data, coordinates on the 0-10 grid, test
#: split: every probe record of 42 images, 95 % intervals over images; the step chosen on
#: validation: 200 of 100/200/300). The ceiling leaves room (a perfect reader of the planted
#: findings beats the text-only answer by 0.044 IoU [0.020, 0.068] and 24 px [12, 35]); the tiny
#: model does not learn to read the sentence, let alone the film: its boxes and points stay near
#: a few constant answers (README, "Pretraining"). These turn into failures on the day they pass.
_NOT_YET = {
    "fvp_iou": "trained 0.263 vs text_only 0.551: diff -0.289 [-0.331, -0.250], 42 images",
    "gtm_centroid_error_px": "trained 245 px vs text_only 97 px: diff +149 [+96, +207], 42 images",
    "sda_order_accuracy": "trained 0.270 vs input_ignoring 0.302: diff -0.032 [-0.092, +0.035], "
                          "42 images (30 % of the trained answers are not permutations)",
}


@pytest.mark.parametrize("metric", [
    pytest.param(m, marks=pytest.mark.xfail(strict=True, reason=f"not yet: {why}"))
    for m, why in _NOT_YET.items()])
def test_trained_model_beats_the_strongest_baseline_on_test(metric):
    e = book_results("03_pretraining")["results"]["planted_effect"][metric]
    assert (e["ci_low"] > 0) if e["higher_is_better"] else (e["ci_high"] < 0), e


@pytest.mark.xfail(strict=True, reason="not yet: trained FVP IoU 0.263 vs image-blind 0.287, "
                                       "interval [-0.079, +0.021] includes zero")
def test_trained_model_beats_the_image_blind_control_on_fvp():
    e = book_results("03_pretraining")["results"]["planted_effect"]["fvp_iou"]
    assert e["image_blind_ci"] is not None and e["image_blind_ci"][0] > 0, e


@pytest.mark.xfail(strict=True, reason="not yet: 83 % of the trained model's test answers parse "
                                       "at the step chosen on validation (200): FVP 69 % (it "
                                       "writes clue boxes past its budget), path and SDA 100 %; "
                                       "with 0-1000 coordinates 77 %")
def test_trained_model_writes_the_answer_formats():
    assert book_results("03_pretraining")["results"]["heldout_details"]["parsed"]["trained"] > 0.9


def test_book_results_record_their_provenance():
    for stem in ("01_data_exploration", "02_gaze_processing", "03_pretraining"):
        prov = book_results(stem)["provenance"]
        assert prov["git"]["commit"] and prov["packages"]["transformers"]
        assert prov["device"]["device"] in ("cpu", "cuda") and prov["data_fingerprint"]


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    """The tiny random Qwen2-VL saved as a checkpoint folder, as a user's would be."""
    from gazex_lib.model import load_model

    path = tmp_path_factory.mktemp("tiny-checkpoint")
    model, processor = load_model(None, size="tiny", seed=0)
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path


#: The full profile, shrunk by parameters alone: tiny budgets, fp32 on CPU, 2 processes.
FULL_SMOKE_OVERRIDES = {"train.max_steps": 2, "train.batch_size": 2, "train.grad_accum": 1,
                        "train.mixed_precision": "no", "train.ckpt_every": 1,
                        "train.eval_every": None, "heldout.max_per_task": 1,
                        "heldout.batch_size": 4, "keyframes.n_jobs": 2}


def test_full_profile_runs_by_parameters_alone(small_synthetic, tiny_checkpoint, tmp_path):
    """Chapters 01-03 with ``profile="full"``: a fake tree in the real layouts as data_root,
    the tiny model as a checkpoint folder, tiny overrides. No code change, no synthetic default."""
    root, _ = small_synthetic
    common = dict(profile="full", data_root=str(root), model_path=str(tiny_checkpoint),
                  overrides=FULL_SMOKE_OVERRIDES)
    r1 = _run("01_data_exploration.ipynb", tmp_path, **common)
    r2 = _run("02_gaze_processing.ipynb", tmp_path, **common)
    r3 = _run("03_pretraining.ipynb", tmp_path, **common)
    assert {r["parameters"]["profile"] for r in (r1, r2, r3)} == {"full"}
    assert r1["results"]["n_readings"] == 22
    assert r1["results"]["downstream"]["absent"] == []           # the new layouts are read too
    assert r2["results"]["n_sentences"] == r2["results"]["n_holistic_frames"]
    res = r3["results"]
    assert res["train"]["steps"] == 2
    assert set(res["records_per_task"]) == set(load_config("full").tasks.names)
    model = r3["provenance"]["model"]
    assert model["path"] == str(tiny_checkpoint.resolve()) and model["config_sha256"]
    # chapter 03 read chapter 02's key-frame stage instead of building its own
    assert r3["provenance"]["stages"]["keyframes"] == r2["provenance"]["stages"]["keyframes"]
