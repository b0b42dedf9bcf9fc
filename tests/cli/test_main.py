"""The top-level command line: a command given first builds only its own parser."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reprobuild.cli.main import COMMANDS, build_parser, main


@pytest.mark.parametrize(
    "argv",
    [
        ["normalize", "--in-place", "--source-date-epoch", "5", "a.whl", "b.tar.gz"],
        ["normalize", "--check", "--skip", "timestamps", "--format", "json", "a.whl"],
        ["diff", "a.whl", "b.whl", "--format", "json"],
    ],
)
def test_one_command_parses_as_the_whole_parser(argv: list[str]) -> None:
    whole = vars(build_parser().parse_args(argv))
    alone = vars(build_parser(argv[0]).parse_args(argv))
    assert alone.keys() == whole.keys()
    assert {k: v for k, v in alone.items() if k != "run"} == {
        k: v for k, v in whole.items() if k != "run"
    }
    assert alone["run"] is whole["run"]


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert f"    {name}" in out


def test_a_command_imports_only_its_own_module() -> None:
    code = (
        "import sys; from reprobuild.cli.main import build_parser; build_parser('normalize'); "
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('reprobuild.cli.'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(out.stdout.split())
    assert "reprobuild.cli.normalize" in loaded
    assert not loaded & {f"reprobuild.cli.{n}" for n in COMMANDS if n != "normalize"}


def test_an_unknown_command_names_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["bogus"])
    assert exc.value.code == 2
    assert "'normalize'" in capsys.readouterr().err


def test_the_program_leaves_its_objects_out_of_the_last_collections() -> None:
    code = (
        "import gc, sys; from reprobuild.cli.main import main; "
        "sys.argv = ['reprobuild', 'normalize', '--list-rules']; "
        "before = gc.get_freeze_count(); main(); print(before, gc.get_freeze_count() > 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[-1] == "0 True"


def test_a_call_with_arguments_changes_nothing_in_the_collector(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import gc

    before = gc.get_freeze_count()
    assert main(["normalize", "--list-rules"]) == 0
    assert gc.get_freeze_count() == before
    assert "timestamps" in capsys.readouterr().out
