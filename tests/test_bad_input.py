"""The bad-input corpus (issue 10): malformed variants of the hand-written REFLACX tree
(tests/fake_reflacx.py, not the generator's output), each with its declared outcome.

* ``Error(*fragments)``: a ReflacxFormatError whose message holds every fragment (``{path}`` is
  the damaged file's absolute path; lines are physical lines);
* ``Fault(reason)``: a domain fault of reading A: counted by ``reading_faults`` and the quality
  report, the file's accessor raises ReadingFaultError, ``strict=True`` raises an error naming
  the file;
* ``Tolerated()``: read without a word, the data equal to the clean tree's;
* ``Issue(reason, count)``: a folder-level problem reported by ``tree_issues`` / check-data.

Adding a case is one line: a name, a damage (a :class:`Damage` call), what is read, the outcome.
No case may return wrong data silently.
"""
from __future__ import annotations

import codecs
import csv
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from fake_reflacx import A, B, write_fake_reflacx
from gazex_lib.data.check import check_data, tree_issues
from gazex_lib.data.quality import quality_report
from gazex_lib.data.reflacx import ReadingFaultError, ReflacxFormatError, load_reflacx

GZ = f"gaze_data/{A}/gaze.csv"
FX = f"main_data/{A}/fixations.csv"
WD = f"main_data/{A}/timestamps_transcription.csv"
TX = f"main_data/{A}/transcription.txt"
CB = f"main_data/{A}/chest_bounding_box.csv"
EL = f"main_data/{A}/anomaly_location_ellipses.csv"
M1 = "main_data/metadata_phase_1.csv"
M3 = "main_data/metadata_phase_3.csv"


class Damage:
    """Byte-level edits of one tree (``root`` = the REFLACX folder). Lines are physical,
    1-based; fields are named by the header's column."""

    def __init__(self, root: Path):
        self.root = root

    def _get(self, rel):
        return (self.root / rel).read_bytes()

    def _put(self, rel, data: bytes):
        (self.root / rel).write_bytes(data)

    def lines(self, rel) -> list[bytes]:
        return self._get(rel).split(b"\r\n")

    def set_lines(self, rel, lines):
        self._put(rel, b"\r\n".join(lines))

    def field(self, rel, line: int, column: str, value: str):
        ls = self.lines(rel)
        header = ls[0].decode().split(",")
        cells = ls[line - 1].split(b",")
        cells[header.index(column)] = value.encode()
        ls[line - 1] = b",".join(cells)
        self.set_lines(rel, ls)

    def append_field(self, rel, line: int, text: str = "1"):
        ls = self.lines(rel)
        ls[line - 1] += b"," + text.encode()
        self.set_lines(rel, ls)

    def drop_last_field(self, rel, line: int):
        ls = self.lines(rel)
        ls[line - 1] = ls[line - 1].rsplit(b",", 1)[0]
        self.set_lines(rel, ls)

    def insert_line(self, rel, before: int, text: str = ""):
        ls = self.lines(rel)
        ls.insert(before - 1, text.encode())
        self.set_lines(rel, ls)

    def replace(self, rel, old: bytes, new: bytes):
        data = self._get(rel)
        assert old in data, (rel, old)
        self._put(rel, data.replace(old, new, 1))

    def truncate(self, rel, n_bytes: int):
        self._put(rel, self._get(rel)[:-n_bytes])

    def write(self, rel, data: bytes):
        self._put(rel, data)

    def rename_column(self, rel, old: str, new: str):
        ls = self.lines(rel)
        ls[0] = b",".join(new.encode() if c == old.encode() else c for c in ls[0].split(b","))
        self.set_lines(rel, ls)

    def to_lf(self, rel):
        self._put(rel, self._get(rel).replace(b"\r\n", b"\n"))

    def bom(self, rel):
        self._put(rel, codecs.BOM_UTF8 + self._get(rel))

    def quote_all(self, rel):
        rows = list(csv.reader(io.StringIO(self._get(rel).decode(), newline="")))
        buf = io.StringIO()
        csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(rows)
        self._put(rel, buf.getvalue().encode())

    def swap_columns(self, rel, a: str, b: str):
        rows = list(csv.reader(io.StringIO(self._get(rel).decode(), newline="")))
        i, j = rows[0].index(a), rows[0].index(b)
        for r in rows:
            r[i], r[j] = r[j], r[i]
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerows(rows)
        self._put(rel, buf.getvalue().encode())

    def remove(self, rel):
        path = self.root / rel
        shutil.rmtree(path) if path.is_dir() else path.unlink()

    def mkdir(self, rel):
        (self.root / rel).mkdir(parents=True)


@dataclass
class Error:
    fragments: tuple

    def __init__(self, *fragments):
        self.fragments = fragments


@dataclass
class Fault:
    reason: str


@dataclass
class Tolerated:
    """Read without a word; the data equal the clean tree's, or ``equal_to`` (a DataFrame)
    when the damage changed a value legitimately."""
    equal_to: object = None


@dataclass
class Issue:
    reason: str
    count: int


#: What each case reads: the accessor that meets the damaged file.
READ = {
    "gaze": lambda ds: ds.gaze(A), "fixations": lambda ds: ds.fixations(A),
    "words": lambda ds: ds.sentences(A), "transcription": lambda ds: ds.transcription(A),
    "chest_box": lambda ds: ds.chest_box(A), "ellipses": lambda ds: ds.ellipses(A),
    "metadata": lambda ds: ds.metadata, "tree": None,
}
#: The file a fault blocks, per accessor (for the strict check).
_FILE_OF = {"words": WD, "fixations": FX, "chest_box": CB, "ellipses": EL}

# name, damage, read, outcome, damaged file ({path} in the fragments)
CASES = [
    # --- row shape -----------------------------------------------------------------------
    ("gaze_extra_field", lambda d: d.append_field(GZ, 5), "gaze",
     Error("{path}: line 5: 17 fields, the header (line 1) has 16"), GZ),
    ("gaze_decimal_comma", lambda d: d.field(GZ, 6, "pupil_area_normalized", "0,512"), "gaze",
     Error("{path}: line 6: 17 fields", "decimal comma"), GZ),
    ("gaze_short_row", lambda d: d.drop_last_field(GZ, 7), "gaze",
     Error("{path}: line 7: 15 fields, the header (line 1) has 16", "cut short"), GZ),
    ("gaze_cut_inside_last_field", lambda d: d.truncate(GZ, 4), "gaze",
     Error("{path}: line 62: the file does not end with a line break"), GZ),
    ("gaze_one_row_long_one_short", lambda d: (d.append_field(GZ, 5), d.drop_last_field(GZ, 6)),
     "gaze", Error("{path}: line 5: 17 fields"), GZ),
    ("gaze_blank_line_then_short_row", lambda d: (d.insert_line(GZ, 3), d.drop_last_field(GZ, 9)),
     "gaze", Error("{path}: line 9: 15 fields"), GZ),
    ("fixations_extra_field", lambda d: d.append_field(FX, 3, ""), "fixations",
     Error("{path}: line 3: 18 fields, the header (line 1) has 17"), FX),
    ("fixations_short_row", lambda d: d.drop_last_field(FX, 2), "fixations",
     Error("{path}: line 2: 16 fields"), FX),
    ("words_unquoted_comma_token", lambda d: d.replace(WD, b'",",3.0', b",,3.0"), "words",
     Error("{path}: line 8: 4 fields, the header (line 1) has 3"), WD),
    ("metadata_row_cut_after_size", lambda d: d.set_lines(M3, [
        ln if not ln.startswith(B.encode()) else b",".join(ln.split(b",")[:8])
        for ln in d.lines(M3)]), "metadata", Error("{path}: line 3: 8 fields"), M3),
    ("chest_box_extra_field", lambda d: d.append_field(CB, 2, "7"), "chest_box",
     Error("{path}: line 2: 5 fields, the header (line 1) has 4"), CB),
    # --- header ----------------------------------------------------------------------------
    ("gaze_duplicate_column", lambda d: d.rename_column(GZ, "window_level", "window_width"),
     "gaze", Error("{path}: line 1: column 'window_width' appears twice", "fields 7 and 8"), GZ),
    ("gaze_missing_column", lambda d: d.rename_column(GZ, "x_position", "x_pos"), "gaze",
     Error("{path}: missing column(s) ['x_position']"), GZ),
    ("metadata_missing_column", lambda d: d.rename_column(M3, "split", "splitt"), "metadata",
     Error("{path}: missing column(s) ['split']"), M3),
    ("fixations_empty_file", lambda d: d.write(FX, b""), "fixations",
     Error("{path}: empty file"), FX),
    # --- numbers ---------------------------------------------------------------------------
    ("gaze_text_in_number", lambda d: d.field(GZ, 4, "x_position", "abc"), "gaze",
     Error("{path}: row 3 (line 4), column 'x_position': cannot parse 'abc'"), GZ),
    ("gaze_infinity", lambda d: d.field(GZ, 4, "y_position", "inf"), "gaze",
     Error("row 3 (line 4), column 'y_position'", "finite number"), GZ),
    ("gaze_absurd_position", lambda d: d.field(GZ, 9, "x_position", "1e300"), "gaze",
     Error("{path}: row 8 (line 9), column 'x_position': value 1e+300 outside the allowed range"), GZ),
    ("gaze_zero_angular_resolution", lambda d: d.field(
        GZ, 3, "angular_resolution_x_pixels_per_degree", "0"), "gaze",
     Error("row 2 (line 3), column 'angular_resolution_x_pixels_per_degree'", "allowed range"), GZ),
    ("gaze_negative_pupil", lambda d: d.field(GZ, 3, "pupil_area_normalized", "-0.5"), "gaze",
     Error("row 2 (line 3), column 'pupil_area_normalized'", "allowed range"), GZ),
    ("gaze_time_in_milliseconds", lambda d: d.field(GZ, 2, "timestamp_sample", "-1000000"),
     "gaze", Error("row 1 (line 2), column 'timestamp_sample'", "allowed range"), GZ),
    ("gaze_quoted_decimal_comma", lambda d: d.field(GZ, 5, "pupil_area_normalized", '"0,5"'),
     "gaze", Error("row 4 (line 5), column 'pupil_area_normalized': cannot parse '0,5'"), GZ),
    ("gaze_blank_line_then_bad_cell", lambda d: (d.insert_line(GZ, 4), d.field(
        GZ, 7, "y_position", "x")), "gaze",
     Error("{path}: row 5 (line 7), column 'y_position': cannot parse 'x'"), GZ),
    ("fixations_missing_start", lambda d: d.field(FX, 3, "timestamp_start_fixation", ""),
     "fixations", Error("row 2 (line 3), column 'timestamp_start_fixation': missing value"), FX),
    ("fixations_absurd_time", lambda d: d.field(FX, 2, "timestamp_end_fixation", "1e12"),
     "fixations", Error("row 1 (line 2), column 'timestamp_end_fixation'", "allowed range"), FX),
    ("words_time_with_two_points", lambda d: d.replace(WD, b"heart,2.0,2.2", b"heart,2.0.1,2.2"),
     "words", Error("row 4 (line 5), column 'timestamp_start_word': cannot parse '2.0.1'"), WD),
    ("metadata_size_overflow", lambda d: d.replace(M3, b",14276052,100,80,", b",14276052,1e300,80,"),
     "metadata", Error("{path}: row 1 (line 2), column 'image_size_x'", "too large"), M3),
    ("metadata_size_not_integer", lambda d: d.replace(M3, b",14276052,100,80,",
                                                      b",14276052,100.5,80,"),
     "metadata", Error("row 1 (line 2), column 'image_size_x'", "as an integer"), M3),
    ("metadata_size_zero", lambda d: d.replace(M3, b",14276052,100,80,", b",14276052,0,80,"),
     "metadata", Error("row 1 (line 2), column 'image_size_x'", "allowed range"), M3),
    ("chest_box_overflow", lambda d: d.replace(CB, b"10,5,90,75", b"10,5,1e300,75"), "chest_box",
     Error("{path}: row 1 (line 2), column 'xmax'", "too large"), CB),
    ("ellipse_certainty_seven", lambda d: d.replace(EL, b"20,10,60,50,4,", b"20,10,60,50,7,"),
     "ellipses", Error("row 1 (line 2), column 'certainty'", "allowed range"), EL),
    # --- values of other kinds -------------------------------------------------------------
    ("metadata_split_typo", lambda d: d.replace(M3, b",train,", b",trian,"), "metadata",
     Error("row 1 (line 2), column 'split'", "'trian' is not a MIMIC split"), M3),
    ("metadata_boolean_yes", lambda d: d.replace(M3, b",train,False,", b",train,yes,"), "metadata",
     Error("row 1 (line 2), column 'eye_tracking_data_discarded'", "'yes'"), M3),
    ("metadata_duplicate_id", lambda d: d.replace(M3, B.encode() + b",", A.encode() + b","),
     "metadata", Error("{path}: row 2 (line 3), column 'id': duplicate reading id"), M3),
    ("id_listed_in_two_phases", lambda d: d.set_lines(M1, d.lines(M1)[:-1] + [
        d.lines(M1)[1].replace(b"P102R000001", A.encode()), b""]), "metadata",
     Error("P300R000003", "metadata_phase_1.csv row 4 (line 5)",
           "metadata_phase_3.csv row 1 (line 2)"), M1),
    # --- encoding ---------------------------------------------------------------------------
    ("gaze_latin1_byte", lambda d: d.set_lines(GZ, d.lines(GZ)[:8] + [
        d.lines(GZ)[8].replace(b"0.512", b"0.5\xb0")] + d.lines(GZ)[9:]), "gaze",
     Error("{path}: line 9, byte", "not valid UTF-8"), GZ),
    ("words_latin1_word", lambda d: d.replace(WD, b"heart,", b"h\xe9art,"), "words",
     Error("{path}: line 5, byte 2: not valid UTF-8"), WD),
    ("transcription_latin1", lambda d: d.write(TX, b"no pneumothorax.\nheart size\xe9"),
     "transcription", Error("{path}: line 2, byte 11: not valid UTF-8"), TX),
    # --- domain faults (counted, the reading excluded from what is built on the file) -------
    ("words_out_of_order", lambda d: d.replace(WD, b"heart,2.0,2.2\r\nsize,2.3,2.5",
                                               b"heart,2.3,2.5\r\nsize,2.0,2.2"), "words",
     Fault("words_out_of_order"), WD),
    ("word_ends_before_it_starts", lambda d: d.replace(WD, b"size,2.3,2.5", b"size,2.3,2.1"),
     "words", Fault("word_negative_duration"), WD),
    ("transcript_disagrees", lambda d: d.write(TX, b"no pneumothorax. heart size large, lungs "
                                                   b"clear. possible effusion"), "words",
     Fault("transcript_mismatch"), WD),
    ("transcript_missing_word", lambda d: d.write(TX, b"no pneumothorax. heart size normal, lungs "
                                                      b"clear. possible"), "words",
     Fault("transcript_mismatch"), WD),
    ("fixation_ends_before_it_starts", lambda d: d.replace(FX, b"1.0,1.25,120", b"1.0,0.25,120"),
     "fixations", Fault("fixation_negative_duration"), FX),
    ("fixation_after_the_recording", lambda d: d.replace(FX, b"1.0,1.25,120", b"1.0,7.25,120"),
     "fixations", Fault("fixation_outside_recording"), FX),
    ("fixations_header_only", lambda d: d.set_lines(FX, d.lines(FX)[:1] + [b""]), "fixations",
     Fault("empty_fixations"), FX),
    ("chest_box_inverted", lambda d: d.replace(CB, b"10,5,90,75", b"90,5,10,75"), "chest_box",
     Fault("impossible_chest_box"), CB),
    ("chest_box_far_outside", lambda d: d.replace(CB, b"10,5,90,75", b"10,5,190,75"),
     "chest_box", Fault("impossible_chest_box"), CB),
    ("ellipse_inverted", lambda d: d.replace(EL, b"20,10,60,50,", b"20,50,60,10,"), "ellipses",
     Fault("impossible_ellipse"), EL),
    # --- tolerated: how real files legitimately vary ----------------------------------------
    ("gaze_lf_line_ends", lambda d: d.to_lf(GZ), "gaze", Tolerated(), GZ),
    ("gaze_byte_order_mark", lambda d: d.bom(GZ), "gaze", Tolerated(), GZ),
    ("gaze_blank_lines", lambda d: (d.insert_line(GZ, 5), d.insert_line(GZ, 9)), "gaze",
     Tolerated(), GZ),
    ("fixations_quoted_numbers", lambda d: d.quote_all(FX), "fixations", Tolerated(), FX),
    ("fixations_columns_reordered", lambda d: d.swap_columns(FX, "x_position", "window_level"),
     "fixations", Tolerated(), FX),
    ("words_trailing_blank_line", lambda d: d.write(WD, d._get(WD) + b"\r\n"), "words",
     Tolerated(), WD),
    ("metadata_lf_and_bom", lambda d: (d.to_lf(M3), d.bom(M3)), "metadata", Tolerated(), M3),
    ("words_lone_cr_line_ends", lambda d: d.write(WD, d._get(WD).replace(b"\r\n", b"\r")),
     "words", Tolerated(), WD),
    ("gaze_blank_line_before_header", lambda d: d.insert_line(GZ, 1), "gaze", Tolerated(), GZ),
    ("gaze_header_spaces", lambda d: d.rename_column(GZ, "x_position", " x_position "), "gaze",
     Tolerated(), GZ),
    ("chest_box_slightly_outside", lambda d: d.replace(CB, b"10,5,90,75", b"-2,5,101,75"),
     "chest_box", Tolerated(pd.DataFrame({"xmin": [-2], "ymin": [5], "xmax": [101],
                                          "ymax": [75]})), CB),
    # --- folders ----------------------------------------------------------------------------
    ("unlisted_reading_folder", lambda d: d.mkdir("main_data/P300R999999"), "tree",
     Issue("unlisted_main_folder", 1), None),
    ("phase_file_missing", lambda d: d.remove(M3), "tree", Issue("missing_metadata_file", 1), None),
    ("listed_reading_without_folder", lambda d: d.remove(f"main_data/{B}"), "tree",
     Issue("missing_main_folder", 1), None),
    ("gaze_unknown_extra_column", lambda d: d.set_lines(GZ, [
        ln + (b",zoom_level" if k == 0 else b",1" if ln else b"")
        for k, ln in enumerate(d.lines(GZ))]), "tree", Issue("unknown_columns", 1), None),
    ("gaze_folder_without_reading", lambda d: d.mkdir("gaze_data/P300R999998"), "tree",
     Issue("unlisted_gaze_folder", 1), None),
]


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    root = write_fake_reflacx(tmp_path_factory.mktemp("clean") / "reflacx")
    return root, load_reflacx(root)


def test_the_corpus_is_large_and_covers_every_outcome():
    assert len(CASES) >= 40 and len({c[0] for c in CASES}) == len(CASES)
    kinds = {type(c[3]).__name__ for c in CASES}
    assert kinds == {"Error", "Fault", "Tolerated", "Issue"}


def _equal(a, b):
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    else:
        assert a == b


@pytest.mark.parametrize("name, damage, read, outcome, rel", CASES, ids=[c[0] for c in CASES])
def test_bad_input(tmp_path, clean, name, damage, read, outcome, rel):
    root = write_fake_reflacx(tmp_path / "reflacx")
    damage(Damage(root))
    path = root / rel if rel else None
    if isinstance(outcome, Issue):
        found = check_data(tmp_path, progress=False)                # the command sees it
        got = dict(zip(found.issues["reason"], found.issues["count"]))
        assert got.get(outcome.reason) == outcome.count, got
        assert outcome.reason in found.summary()
        if outcome.reason != "unknown_columns":                     # a folder-level problem
            issues = tree_issues(root, load_reflacx(root).metadata)
            assert dict(zip(issues["reason"], issues["count"])).get(outcome.reason) == outcome.count
        return
    if isinstance(outcome, Error):
        with pytest.raises(ReflacxFormatError) as info:
            READ[read](load_reflacx(root))
        msg = str(info.value)
        for frag in outcome.fragments:
            assert frag.format(path=path) in msg, msg
        return
    if isinstance(outcome, Fault):
        ds = load_reflacx(root)
        with pytest.raises(ReadingFaultError, match=outcome.reason):
            READ[read](ds)
        assert outcome.reason in ds.reading_faults(A)
        report = quality_report(ds, [A], progress=False).set_index("reason")
        assert report.loc[outcome.reason, "count"] == 1
        with pytest.raises(ReflacxFormatError, match=outcome.reason) as info:
            READ[read](load_reflacx(root, strict=True))
        assert str(root / _FILE_OF[read]) in str(info.value)
        return
    got = READ[read](load_reflacx(root))
    _equal(got, READ[read](clean[1]) if outcome.equal_to is None else outcome.equal_to)


def test_check_data_collects_every_error_and_fault(tmp_path):
    """check-data reads everything and reports every problem, not the first one."""
    root = write_fake_reflacx(tmp_path / "reflacx")
    d = Damage(root)
    d.append_field(GZ, 5)                                            # structural, reading A
    d.write(f"main_data/{B}/transcription.txt", b"small effusion.")   # fault, reading B
    found = check_data(tmp_path, progress=False)
    assert not found.ok and len(found.errors) == 1 and found.errors[0][0] == A
    assert found.faults == {"transcript_mismatch": 1}
    assert "reflacx" in found.datasets and "NOT OK" in found.summary()
    clean_root = write_fake_reflacx(tmp_path / "clean" / "reflacx")
    assert check_data(clean_root.parent, progress=False).ok


def test_the_data_check_runs_before_anything_when_asked(tmp_path):
    """``data.check_before_run`` (the full profile's setting): setup validates the data once per
    data fingerprint (a cached stage) and refuses damaged data with the first error; the
    command line says the same with exit status 1."""
    import subprocess
    import sys

    import gazex_lib
    from gazex_lib.runtime import SetupError

    data = tmp_path / "data"
    root = write_fake_reflacx(data / "reflacx")
    kwargs = dict(data_root=str(data), output_dir=str(tmp_path / "out"), announce=None,
                  **{"data.check_before_run": True})
    run = gazex_lib.setup(**kwargs)
    first = run.stages["data_check"]
    assert first.status == "built" and (first.directory / "check.txt").read_text().endswith("OK\n")
    assert gazex_lib.setup(**kwargs).stages["data_check"].status == "reused"
    Damage(root).append_field(GZ, 5)
    with pytest.raises(SetupError, match=r"failed its check.*gaze\.csv: line 5: 17 fields"):
        gazex_lib.setup(**kwargs)
    proc = subprocess.run([sys.executable, "-m", "gazex_lib.run", "check-data", "--data-root",
                           str(data)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert "line 5: 17 fields" in proc.stdout and "NOT OK" in proc.stdout


def test_the_exploration_skips_and_names_a_faulty_reading(tmp_path):
    """Chapter 01's statistics and example choice on data with a domain fault: the reading is
    left out and named, not crashed on, and never chosen as the example."""
    from gazex_lib.data.explore import pick_example_reading, reading_statistics

    root = write_fake_reflacx(tmp_path / "reflacx")
    clean = load_reflacx(root)
    assert pick_example_reading(clean) == A               # the phase-3 reading with most sentences
    Damage(root).replace(WD, b"size,2.3,2.5", b"size,2.3,2.1")
    ds = load_reflacx(root)
    stats = reading_statistics(ds, progress=False)
    assert A not in stats.index and stats.attrs["excluded_for_faults"] == {
        A: ["word_negative_duration"]}
    assert len(stats) == len(reading_statistics(clean, progress=False)) - 1
    assert pick_example_reading(ds) == B


def test_checksums_of_a_physionet_folder(tmp_path):
    """``check-data --checksums``: PhysioNet's SHA256SUMS.txt verified file by file."""
    import hashlib

    from gazex_lib.data.check import verify_checksums

    root = write_fake_reflacx(tmp_path / "reflacx")
    assert verify_checksums(root) is None                       # no SHA256SUMS.txt: nothing to do
    good = hashlib.sha256((root / CB).read_bytes()).hexdigest()
    (root / "SHA256SUMS.txt").write_text(f"{good} {CB}\n{'0' * 64} {FX}\n{good} main_data/gone.csv\n")
    got = verify_checksums(root)
    assert got == {"verified": 1, "mismatched": [FX], "missing": ["main_data/gone.csv"]}
    found = check_data(tmp_path, checksums=True, progress=False)
    assert not found.ok and found.checksums["mismatched"] == [f"reflacx/{FX}"]
    assert "1 mismatched, 1 missing" in found.summary()
    assert check_data(tmp_path, progress=False).ok              # not asked: not read
