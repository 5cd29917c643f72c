"""MIMIC-CXR(-JPG): REFLACX image path resolution, image loading, tables (gz and plain)."""
from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gazex_lib.data.labels import CHEXBERT_LABELS
from gazex_lib.data.mimic import (
    MimicCxrJpg, MimicFormatError, jpg_relative_path, load_image, load_sectioned_reports,
    resolve_image_path,
)

# A real public radiograph (NIH ChestX-ray14), shipped with the package with its NOTICE.
NIH = Path(__file__).resolve().parents[1] / "gazex_lib" / "assets" / "nih" / "00000001_000.png"

DICOM = "02aa804e-bde0afdd-112c0b34-7bc16630-4e384014"
REL = Path("files/p14/p14276052/s56035498") / f"{DICOM}.jpg"


@pytest.mark.parametrize("image", [
    f"/home/user/data/physionet.org/files/mimic-cxr/2.0.0/files/p14/p14276052/s56035498/{DICOM}.dcm",
    f"physionet.org/files/mimic-cxr/2.0.0/files/p14/p14276052/s56035498/{DICOM}.dcm",
    f"p14/p14276052/s56035498/{DICOM}.dcm",
    f"C:\\datasets\\mimic-cxr\\files\\p14\\p14276052\\s56035498\\{DICOM}.dcm",
    f"/mnt/mimic-cxr-jpg/2.1.0/files/p14/p14276052/s56035498/{DICOM}.jpg",
])
def test_relative_path_from_any_prefix(image):
    assert jpg_relative_path(image) == REL


@pytest.mark.parametrize("bad", [
    "", "not/a/path.dcm", f"p14/p1427605/s56035498/{DICOM}.dcm",
    f"p14/p14276052/s56035498/{DICOM}.png", f"p15/p14276052/s56035498/{DICOM}.dcm",
])
def test_unparsable_image_path_names_input(bad):
    with pytest.raises(ValueError, match=re.escape(repr(bad))):
        jpg_relative_path(bad)


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"jpg")
    return path


def test_resolve_flat_and_versioned_layouts(tmp_path):
    image = f"/x/physionet.org/files/mimic-cxr/2.0.0/files/p14/p14276052/s56035498/{DICOM}.dcm"
    flat = tmp_path / "flat"
    _touch(flat / REL)
    assert resolve_image_path(image, flat, must_exist=True) == flat / REL
    versioned = tmp_path / "versioned"
    _touch(versioned / "2.1.0" / REL)
    assert resolve_image_path(image, versioned, must_exist=True) == versioned / "2.1.0" / REL
    # not existing yet: follow the layout whose files/ exists, else the flat one
    (tmp_path / "v2" / "2.1.0" / "files").mkdir(parents=True)
    assert resolve_image_path(image, tmp_path / "v2") == tmp_path / "v2" / "2.1.0" / REL
    assert resolve_image_path(image, tmp_path / "empty") == tmp_path / "empty" / REL


def test_missing_jpg_names_both_paths(tmp_path):
    image = f"physionet.org/files/mimic-cxr/2.0.0/files/p14/p14276052/s56035498/{DICOM}.dcm"
    with pytest.raises(FileNotFoundError) as info:
        resolve_image_path(image, tmp_path, must_exist=True)
    msg = str(info.value)
    assert image in msg and str(tmp_path / REL) in msg and str(tmp_path / "2.1.0" / REL) in msg


# --- images -------------------------------------------------------------------------------

@pytest.fixture
def real_jpg(tmp_path):
    out = tmp_path / "files" / "p10" / "p10000032" / "s50000014" / "real.jpg"
    out.parent.mkdir(parents=True)
    with Image.open(NIH) as im:
        im.convert("L").save(out, quality=95)
    return out


def test_real_radiograph_scales(real_jpg):
    with Image.open(real_jpg) as im:
        w, h = im.size
    full = load_image(real_jpg)
    assert full.dtype == np.uint8 and full.shape == (h, w)
    quarter = load_image(real_jpg, scale=0.25)
    assert quarter.shape == (h // 4, w // 4)
    assert load_image(real_jpg, size=(100, 60)).shape == (60, 100)
    # area averaging keeps the mean brightness (a nearest-neighbour resize would not match as well)
    assert abs(float(quarter.mean()) - float(full.mean())) < 1.0
    assert quarter.std() > 10                                     # a real film, not a flat image


def test_odd_sizes_floor_like_official(tmp_path):
    path = tmp_path / "odd.png"
    Image.fromarray(np.zeros((203, 101), dtype=np.uint8)).save(path)
    assert load_image(path, scale=0.25).shape == (203 // 4, 101 // 4)
    assert load_image(path, scale=1 / 3).shape == (67, 33)
    assert load_image(path, scale=2).shape == (406, 202)
    with pytest.raises(ValueError, match="not both"):
        load_image(path, scale=0.5, size=(10, 10))
    with pytest.raises(ValueError, match="positive"):
        load_image(path, scale=0)


def test_box_filter_is_block_average(tmp_path):
    arr = np.array([[0, 4, 10, 10], [8, 4, 10, 10], [1, 1, 200, 0], [1, 1, 0, 100]], dtype=np.uint8)
    path = tmp_path / "blocks.png"
    Image.fromarray(arr).save(path)
    assert load_image(path, scale=0.5).tolist() == [[4, 10], [1, 75]]


def test_rgb_and_16bit_become_uint8_grey(tmp_path):
    rgb = tmp_path / "rgb.png"
    Image.fromarray(np.full((4, 6, 3), 200, dtype=np.uint8), "RGB").save(rgb)
    out = load_image(rgb)
    assert out.shape == (4, 6) and out.dtype == np.uint8 and (out == 200).all()
    deep = tmp_path / "deep.png"
    Image.fromarray(np.full((4, 6), 65535, dtype=np.uint16)).save(deep)
    assert (load_image(deep) == 255).all()


def test_missing_image(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.jpg"):
        load_image(tmp_path / "nope.jpg")


# --- tables -------------------------------------------------------------------------------

def _write(path: Path, text: str, gz: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        with gzip.open(path.with_name(path.name + ".gz"), "wt", newline="") as fh:
            fh.write(text)
    else:
        path.write_text(text)


SPLIT = ("dicom_id,study_id,subject_id,split\n"
         f"{DICOM},56035498,14276052,train\n"
         "aaaa,50000014,10000032,test\n")
CHEXPERT = ("subject_id,study_id," + ",".join(CHEXBERT_LABELS) + "\n"
            "14276052,56035498," + ",".join(["1.0", "", "-1.0", "0.0"] + [""] * 10) + "\n")
META = ("dicom_id,subject_id,study_id,PerformedProcedureStepDescription,ViewPosition,Rows,Columns,"
        "StudyDate,StudyTime,ProcedureCodeSequence_CodeMeaning,ViewCodeSequence_CodeMeaning,"
        "PatientOrientationCodeSequence_CodeMeaning\n"
        f"{DICOM},14276052,56035498,CHEST (PA AND LAT),PA,3056,2544,21800506,213014.531,"
        "CHEST (PA AND LAT),postero-anterior,Erect\n")


@pytest.mark.parametrize("gz", [True, False])
def test_mimic_tables(tmp_path, gz):
    root = tmp_path / "mimic-cxr-jpg"
    _write(root / "mimic-cxr-2.0.0-split.csv", SPLIT, gz)
    _write(root / "mimic-cxr-2.0.0-chexpert.csv", CHEXPERT, gz)
    _write(root / "mimic-cxr-2.0.0-metadata.csv", META, gz)
    m = MimicCxrJpg(root)
    assert m.split["split"].tolist() == ["train", "test"]
    assert m.split["subject_id"].dtype == np.int64
    row = m.chexpert.iloc[0]
    assert row["Enlarged Cardiomediastinum"] == 1.0 and np.isnan(row["Cardiomegaly"])
    assert row["Lung Opacity"] == -1.0 and row["Lung Lesion"] == 0.0
    assert m.chexpert[list(CHEXBERT_LABELS)].dtypes.eq(np.float64).all()
    assert m.metadata.loc[0, "ViewPosition"] == "PA"
    assert m.image_path(DICOM) == root / REL
    _touch(root / REL)
    assert m.image_path(DICOM, must_exist=True) == root / REL
    with pytest.raises(KeyError, match="unknown-dicom"):
        m.image_path("unknown-dicom")


def test_mimic_table_errors(tmp_path):
    root = tmp_path / "jpg"
    root.mkdir()
    with pytest.raises(FileNotFoundError, match="mimic-cxr-2.0.0-split.csv"):
        MimicCxrJpg(root).split
    _write(root / "mimic-cxr-2.0.0-split.csv", "dicom_id,study_id,split\nx,1,train\n", gz=True)
    with pytest.raises(MimicFormatError, match=r"missing column\(s\) \['subject_id'\]"):
        MimicCxrJpg(root).split
    _write(root / "mimic-cxr-2.0.0-chexpert.csv", CHEXPERT.replace("1.0,,-1.0", "2.0,,-1.0"), gz=False)
    with pytest.raises(MimicFormatError, match=r"row 1 \(line 2\), column 'Enlarged Cardiomediastinum'"):
        MimicCxrJpg(root).chexpert
    with pytest.raises(FileNotFoundError, match="not a directory"):
        MimicCxrJpg(tmp_path / "absent")


@pytest.mark.parametrize("gz", [True, False])
def test_sectioned_reports(tmp_path, gz):
    root = tmp_path / "mimic-cxr"
    text = ('study,impression,findings,last_paragraph,comparison\n'
            's50000014,"No acute process.","Lungs are clear, NA.",,None\n'
            's50000015,,Heart size normal.,x,\n')
    _write(root / "mimic_cxr_sectioned.csv", text, gz)
    df = load_sectioned_reports(root)
    assert df["study"].tolist() == ["s50000014", "s50000015"]
    assert df.loc[0, "findings"] == "Lungs are clear, NA."
    assert df.loc[0, "comparison"] == "None"                      # text, not a missing value
    assert np.isnan(df.loc[1, "impression"]) and np.isnan(df.loc[0, "last_paragraph"])


def test_sectioned_reports_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="mimic_cxr_sectioned.csv"):
        load_sectioned_reports(tmp_path)
    path = tmp_path / "mimic_cxr_sectioned.csv"
    path.write_text("study,impression,findings\ns1,a,b\n")
    with pytest.raises(MimicFormatError, match=r"\['last_paragraph', 'comparison'\]"):
        load_sectioned_reports(tmp_path)
    path.write_text("study,impression,findings,last_paragraph,comparison\ns1,a,b,c,d\ns1,e,f,g,h\n")
    with pytest.raises(MimicFormatError, match=r"row 2 \(line 3\), column 'study': duplicate"):
        load_sectioned_reports(path)


# --- the bad-input corpus of the MIMIC tables (issue 10, the same standard as REFLACX's) -------
MIMIC_CASES = [
    # name, table text, gz, expected message fragments (None: tolerated, same split as clean)
    ("split_extra_field", SPLIT.replace(",train\n", ",train,x\n"), True,
     ["line 2: 5 fields, the header (line 1) has 4"]),
    ("split_short_row", SPLIT.replace(",10000032,test\n", ",10000032\n"), False,
     ["line 3: 3 fields"]),
    ("split_cut_last_line", SPLIT[:-3], True, ["line 3: the file does not end with a line break"]),
    ("split_duplicate_header", SPLIT.replace("subject_id,split", "study_id,split"), False,
     ["line 1: column 'study_id' appears twice"]),
    ("split_typo", SPLIT.replace(",test\n", ",tset\n"), True,
     ["row 2 (line 3), column 'split'", "'tset'"]),
    ("split_overflow", SPLIT.replace("50000014", "9" * 30), False,
     ["row 2 (line 3), column 'study_id'", "too large"]),
    ("split_latin1", SPLIT.replace("aaaa", "a\xe9a"), False, ["line 3, byte 2: not valid UTF-8"]),
    ("split_blank_line_then_typo", SPLIT.replace("train\n", "train\n\n").replace(",test\n", ",tst\n"),
     False, ["row 2 (line 4), column 'split'"]),
    ("split_crlf_and_bom", "\ufeff" + SPLIT.replace("\n", "\r\n"), True, None),
    ("split_quoted", SPLIT.replace(",train\n", ',"train"\n'), False, None),
]


@pytest.mark.parametrize("name, text, gz, fragments", MIMIC_CASES, ids=[c[0] for c in MIMIC_CASES])
def test_mimic_bad_input(tmp_path, name, text, gz, fragments):
    root = tmp_path / "jpg"
    if "\xe9" in text:                                  # a Latin-1 byte in a UTF-8 table
        root.mkdir(parents=True)
        data = text.encode("latin-1")
        path = root / ("mimic-cxr-2.0.0-split.csv" + (".gz" if gz else ""))
        path.write_bytes(gzip.compress(data) if gz else data)
    else:
        _write(root / "mimic-cxr-2.0.0-split.csv", text, gz)
    if fragments is None:
        clean = tmp_path / "clean"
        _write(clean / "mimic-cxr-2.0.0-split.csv", SPLIT, gz)
        assert MimicCxrJpg(root).split.equals(MimicCxrJpg(clean).split)
        return
    with pytest.raises(MimicFormatError) as info:
        MimicCxrJpg(root).split
    for frag in fragments:
        assert frag in str(info.value), str(info.value)


def test_mimic_truncated_gzip(tmp_path):
    root = tmp_path / "jpg"
    _write(root / "mimic-cxr-2.0.0-split.csv", SPLIT * 50, gz=True)
    path = root / "mimic-cxr-2.0.0-split.csv.gz"
    path.write_bytes(path.read_bytes()[:-20])           # a partial download
    with pytest.raises(MimicFormatError, match="not a readable"):
        MimicCxrJpg(root).split
