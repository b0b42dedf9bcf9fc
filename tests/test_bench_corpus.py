"""The population sample of ``benchmarks/verify.py --sample`` (``benchmarks/corpus.py``): the
ranks read from the package list, the releases told from an index page's file names alone, the
latest and the old release, the halves, the sample's file, the page cache; and how the
benchmark names causes and counts a half. No network: index pages are made here."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from packaging.version import Version

from reprobuild.index import IndexFile

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """``benchmarks/verify.py``, loaded under a name of its own; it imports ``corpus``."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location("bench_verify", BENCHMARKS / "verify.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["bench_verify"] = module  # dataclasses look their module up by name
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.fixture(scope="module")
def corpus(bench: ModuleType) -> ModuleType:
    module: ModuleType = bench.corpus
    return module


def when(year: int, month: int = 6, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def file(filename: str, uploaded: datetime | None, *, yanked: bool = False) -> IndexFile:
    return IndexFile(
        filename=filename,
        url=f"https://index.invalid/files/{filename}",
        sha256="0" * 64,
        upload_time=uploaded,
        yanked=yanked,
    )


def release_files(name: str, version: str, uploaded: datetime, *wheels: str) -> list[IndexFile]:
    """An sdist and the wheels of ``wheels`` (tags, as ``py3-none-any``) of one release."""
    stem = f"{name.replace('-', '_')}-{version}"
    return [file(f"{stem}.tar.gz", uploaded)] + [file(f"{stem}-{t}.whl", uploaded) for t in wheels]


# --- the package list ------------------------------------------------------------------------

PACKAGE_LIST = (
    "name\tversion\tmonth\trank_among_15000_most_downloaded\tsummary\n"
    "Foo_Bar\t1.0\t2025-01\t701\tA foo\n"
    "unranked\t0.1\t2017-08\t\tNot ranked\n"
    "baz\t2.0\t2024-02\t1500\tBaz\n"
    "top\t3.0\t2026-01\t12\tToo popular\n"
    "low\t1.0\t2026-01\t1501\tNot popular enough\n"
)


def test_ranks_are_read_by_the_header_and_blank_means_unranked(corpus: ModuleType) -> None:
    ranks = corpus.parse_ranks(PACKAGE_LIST)
    assert ranks == {"foo-bar": 701, "baz": 1500, "top": 12, "low": 1501}
    assert corpus.ranked_between(ranks, 701, 1500) == [(701, "foo-bar"), (1500, "baz")]


def test_a_package_list_without_the_rank_column_or_with_a_bad_rank_is_refused(
    corpus: ModuleType,
) -> None:
    with pytest.raises(ValueError, match="rank_among_15000_most_downloaded"):
        corpus.parse_ranks("name\tversion\nfoo\t1.0\n")
    with pytest.raises(ValueError, match="line 2"):
        corpus.parse_ranks("name\trank_among_15000_most_downloaded\nfoo\tfirst\n")


def test_the_package_list_comes_from_the_option_or_the_environment(
    corpus: ModuleType, tmp_path: Path
) -> None:
    listed = tmp_path / "list.tsv"
    listed.write_text(PACKAGE_LIST)
    assert corpus.package_list_path(str(listed), {}) == listed
    assert corpus.package_list_path(None, {corpus.PACKAGE_LIST_ENV: str(listed)}) == listed
    with pytest.raises(SystemExit, match="--package-list PATH, or set REPROBUILD_PACKAGE_LIST"):
        corpus.package_list_path(None, {})
    with pytest.raises(SystemExit, match="is not a file"):
        corpus.package_list_path(str(tmp_path / "missing.tsv"), {})


# --- releases from an index page -------------------------------------------------------------


def test_releases_are_told_from_file_names_and_what_does_not_count_is_left_out(
    corpus: ModuleType,
) -> None:
    files = [
        *release_files("foo", "1.0", when(2020), "py2.py3-none-any", "cp39-cp39-win_amd64"),
        file("foo-1.0.zip", when(2020, 7)),
        file("foo-1.0-py38-none-any.whl", when(2020, 1)),  # the earliest file of 1.0
        file("foo-1.1.tar.gz", when(2021), yanked=True),
        file("foo-1.2.tar.gz", when(2027)),  # after the cut-off
        file("foo-1.3.tar.gz", None),  # no upload time
        file("foo-1.4.egg", when(2021)),  # neither sdist nor wheel
        file("other-1.5.tar.gz", when(2021)),  # another project's
        file("foo-1.6-cp313-cp313-manylinux_2_17_x86_64.whl", when(2021)),
    ]
    releases = corpus.group_releases("Foo", files, cutoff=when(2026, 12))
    assert [str(r.version) for r in releases] == ["1.0", "1.6"]
    first, last = releases
    assert (first.sdists, first.pure_wheels, first.compiled_wheels) == (2, 2, 1)
    assert first.uploaded == when(2020, 1)
    assert first.qualifies
    assert (last.sdists, last.pure_wheels, last.compiled_wheels) == (0, 0, 1)
    assert not last.qualifies


def test_the_latest_release_is_the_highest_final_version_not_the_last_upload(
    corpus: ModuleType,
) -> None:
    files = [
        *release_files("foo", "2.0", when(2024), "py3-none-any"),
        *release_files("foo", "1.9.1", when(2025), "py3-none-any"),  # a backport, later
        *release_files("foo", "3.0rc1", when(2026), "py3-none-any"),
        *release_files("foo", "3.0.dev1", when(2026), "py3-none-any"),
    ]
    latest, reason = corpus.latest_release(corpus.group_releases("foo", files))
    assert latest is not None and latest.version == Version("2.0")
    assert reason == ""


@pytest.mark.parametrize(
    ("wheels", "sdist", "reason"),
    [
        (["cp312-cp312-manylinux_2_17_x86_64"], True, "latest release has only compiled wheels"),
        ([], True, "latest release has no wheel"),
        (["py3-none-any"], False, "latest release has a pure wheel but no sdist"),
    ],
)
def test_a_latest_release_without_an_sdist_and_a_pure_wheel_leaves_the_project_out(
    corpus: ModuleType, wheels: list[str], sdist: bool, reason: str
) -> None:
    files = [
        *release_files("foo", "1.0", when(2020), "py3-none-any"),  # an older one would do
        *release_files("foo", "2.0", when(2024), *wheels)[0 if sdist else 1 :],
    ]
    latest, why = corpus.latest_release(corpus.group_releases("foo", files))
    assert latest is None
    assert why == reason


def test_only_pre_releases_leave_the_project_out(corpus: ModuleType) -> None:
    files = release_files("foo", "1.0b1", when(2024), "py3-none-any")
    assert corpus.latest_release(corpus.group_releases("foo", files)) == (
        None,
        "no final release before the cut-off",
    )


def test_the_old_release_is_the_highest_qualifying_one_of_2019_to_2022(
    corpus: ModuleType,
) -> None:
    files = [
        *release_files("foo", "0.9", when(2018, 12, 31), "py3-none-any"),
        *release_files("foo", "1.0", when(2019, 1, 1), "py3-none-any"),
        *release_files("foo", "1.1", when(2021), "cp39-cp39-win_amd64"),  # no pure wheel
        *release_files("foo", "1.2b1", when(2022), "py3-none-any"),
        *release_files("foo", "2.0", when(2023, 1, 1), "py3-none-any"),
    ]
    releases = corpus.group_releases("foo", files)
    found = corpus.old_release(releases, besides=Version("2.0"))
    assert found is not None and found.version == Version("1.0")
    # the latest release itself is never the old one too
    assert corpus.old_release(releases, besides=Version("1.0")) is None


# --- the sample --------------------------------------------------------------------------------


def test_the_half_is_the_low_bit_of_a_hash_of_the_canonical_name(corpus: ModuleType) -> None:
    for name in ("requests", "zope-event", "posthog", "a", "b", "c"):
        low_bit = hashlib.sha256(f"split:{name}".encode()).digest()[-1] & 1
        assert corpus.half_of(name).value == ("test" if low_bit else "dev")
    assert corpus.half_of("Zope_Event") is corpus.half_of("zope-event")
    halves = {corpus.half_of(f"project-{i}") for i in range(20)}
    assert halves == set(corpus.Half)


def test_the_sample_takes_latest_releases_and_old_ones_by_hash_order(corpus: ModuleType) -> None:
    names = [f"p{i}" for i in range(8)]
    pages = {
        name: [
            *release_files(name, "2.0", when(2025), "py3-none-any"),
            *release_files(name, "1.0", when(2020), "py3-none-any"),
        ]
        for name in names
    }
    pages["p3"] = release_files("p3", "2.0", when(2025), "py3-none-any")  # nothing old
    pages["p5"] = release_files("p5", "2.0", when(2025), "cp39-cp39-win_amd64")
    pages["p6"] = []
    ranked = [(700 + i, name) for i, name in enumerate(names)]
    sample = corpus.build_corpus(ranked, pages, old_count=3)
    latest = sample.select(old=False)
    assert [e.name for e in latest] == ["p0", "p1", "p2", "p3", "p4", "p7"]
    assert sample.excluded == {
        "latest release has only compiled wheels": 1,
        "not on the index": 1,
    }
    by_hash = sorted(
        ["p0", "p1", "p2", "p4", "p7"], key=lambda n: hashlib.sha256(n.encode()).hexdigest()
    )
    old = sample.select(old=True)
    assert sorted(e.name for e in old) == sorted(by_hash[:3])
    assert [e.rank for e in old] == sorted(e.rank for e in old)
    assert all(e.version == "1.0" and e.uploaded == "2020-06" for e in old)
    assert all(e.half is corpus.half_of(e.name) for e in sample.entries)


def test_the_sample_file_says_the_rule_and_reads_back(corpus: ModuleType) -> None:
    pages = {
        "foo": release_files("foo", "1.0", when(2025), "py3-none-any", "cp39-cp39-win_amd64"),
        "bar": [
            *release_files("bar", "3.1", when(2026), "py38-none-any", "py39-none-any"),
            *release_files("bar", "2.0", when(2021, 3), "py3-none-any"),
        ],
    }
    sample = corpus.build_corpus([(701, "foo"), (702, "bar")], pages)
    text = corpus.render_corpus(sample)
    assert "rank_among_15000_most_downloaded" in text
    assert "ranked 701 to 1500" in text
    assert "# cut-off: 2026-12-01T00:00:00Z" in text
    assert "# latest releases: 2" in text
    assert all(len(line) <= 100 for line in text.splitlines() if line.startswith("#"))
    assert f"foo==1.0  # {corpus.half_of('foo').value}; rank 701" in text
    back = corpus.parse_corpus(text)
    assert back.entries == sample.entries
    assert back.cutoff == sample.cutoff
    assert back.ranked == 2
    (bar_old,) = back.select(old=True)
    assert (bar_old.release, bar_old.uploaded) == ("bar==2.0", "2021-03")
    bar = next(e for e in back.entries if e.name == "bar" and not e.old)
    assert (bar.pure_wheels, bar.compiled_wheels) == (2, 0)


def test_a_line_that_is_not_a_sample_line_is_refused(corpus: ModuleType) -> None:
    with pytest.raises(ValueError, match="line 2"):
        corpus.parse_corpus("# header\nfoo==1.0  # dev\n")


def test_the_committed_sample_reads(corpus: ModuleType) -> None:
    sample = corpus.parse_corpus((BENCHMARKS / "verify_sample.txt").read_text())
    assert sample.entries
    assert len(sample.select(old=True)) <= corpus.OLD_COUNT
    assert len({e.release for e in sample.entries}) == len(sample.entries)
    assert corpus.rule_text(sample.cutoff).split()[:4] == ["Every", "project", "ranked", "701"]


class CountingSource:
    def __init__(self, pages: dict[str, list[IndexFile]]) -> None:
        self.pages = pages
        self.asked: list[str] = []

    def project_files(self, name: str) -> tuple[IndexFile, ...]:
        self.asked.append(name)
        return tuple(self.pages.get(name, ()))


def test_index_pages_are_kept_so_that_a_refresh_asks_again_for_none(
    corpus: ModuleType, tmp_path: Path
) -> None:
    pages = {"foo": release_files("foo", "1.0", when(2025), "py3-none-any")}
    source = CountingSource(pages)
    first = corpus.load_pages(source, ["foo", "gone"], tmp_path, jobs=2)
    again = corpus.load_pages(source, ["foo", "gone"], tmp_path, jobs=2)
    assert sorted(source.asked) == ["foo", "gone"]
    assert first == again == {"foo": tuple(pages["foo"]), "gone": ()}


# --- the report --------------------------------------------------------------------------------


def test_causes_are_named_by_known_parts_and_variable_words_left_out(bench: ModuleType) -> None:
    cause = (
        "the rebuild is named foo-1.0-cp313-cp313-linux_x86_64.whl: its tags differ; "
        "content differs only in .dist-info files: foo-1.0.dist-info/RECORD (metadata written "
        "by wheel==0.30.0 at the cut-off date)"
    )
    assert bench.cause_names("different", cause) == [
        "the rebuild's name and tags differ",
        "content differs only in .dist-info files",
    ]
    assert bench.cause_names(
        "equivalent", "identical after normalization; differs in order", ["order"]
    ) == ["differs in order"]
    assert bench.cause_names("build-failed", "setuptools==1.2 does not install: no match") == [
        "… does not install"
    ]


def test_a_half_counts_pure_wheels_and_releases_without_a_result(
    bench: ModuleType, corpus: ModuleType
) -> None:
    def entry(name: str, pure: int, *, old: bool = False) -> Any:
        return corpus.Entry(
            name=name,
            version="1.0",
            half=corpus.Half.TEST,
            old=old,
            rank=701,
            uploaded="2025-01",
            pure_wheels=pure,
            compiled_wheels=0,
        )

    def artifact(filename: str, verdict: str, cause: str = "") -> dict[str, object]:
        return {"filename": filename, "verdict": verdict, "cause": cause, "categories": []}

    entries = [entry("a", 1), entry("b", 2), entry("c", 1, old=True), entry("d", 3)]
    runs = {
        "a==1.0": bench.Run(
            "a==1.0",
            2.0,
            0,
            False,
            [
                {
                    **artifact("a-1.0-py3-none-any.whl", "reproducible"),
                    "recipe": {"fitted": [{"field": "hash_seed", "tries": 3}]},
                }
            ],
        ),
        "b==1.0": bench.Run(
            "b==1.0",
            4.0,
            1,
            False,
            [
                artifact("b-1.0-py38-none-any.whl", "reproducible"),
                artifact(
                    "b-1.0-py39-none-any.whl",
                    "different",
                    "differences normalization does not remove",
                ),
                artifact("b-1.0-cp39-cp39-win_amd64.whl", "not-verifiable", "a compiled wheel"),
            ],
        ),
        "c==1.0": bench.Run("c==1.0", 9.0, -1, False, [], "timed out after 5 s"),
        "d==1.0": bench.Run("d==1.0", 1.0, 70, True, [], "error: boom"),
    }
    found = [o for e in entries for o in bench.outcomes(e, runs[e.release])]
    report = bench.half_report(entries, runs, found)
    assert report.wheels == 1 + 2 + 1 + 3
    assert report.counts == {"reproducible": 2, "different": 1, "no verdict": 4}
    assert report.named == 2  # a generic cause and no verdict are not named
    assert report.crashes == ("d==1.0",)
    assert report.fitted == 1
    assert report.compiled_beside == 1
    assert report.median_seconds == 3.0
    assert (report.latest, report.old) == (3, 1)
    sample = corpus.Corpus(entries=tuple(entries))
    text = bench.render_population(
        {corpus.Half.TEST: report}, sample=sample, header="HEADER", partial="", jobs=2
    )
    assert text.startswith("## verify: the population\n\nHEADER\n")
    assert "| bit for bit, inference alone | **2/7 (29%)** | ≥90%: **not met** |" in text
    assert "| crashes (releases) | 1 (d==1.0) | 0: **not met** |" in text
    assert "| no verdict | crashed | 3 |" in text
    assert "| of which with a value fitted by trying, or a step after the build | 1 |  |" in text


def test_the_recorded_command_names_no_package_list_path(bench: ModuleType) -> None:
    argv = ["--sample", "--package-list", "/somewhere/list.tsv", "--package-list=/x", "--jobs", "2"]
    assert bench.without_paths(argv) == [
        "--sample",
        "--package-list",
        "PATH",
        "--package-list=PATH",
        "--jobs",
        "2",
    ]
