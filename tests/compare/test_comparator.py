"""The Comparator protocol: importable from the package, not loaded by a comparison."""

from __future__ import annotations

import subprocess
import sys

from reprobuild.compare import Comparator, default_registry
from reprobuild.compare.comparator import Comparator as Defined


def test_the_protocol_is_importable_from_the_package() -> None:
    assert Comparator is Defined
    assert all(callable(comparator.accepts) for comparator in default_registry())


def test_a_comparison_does_not_import_typing() -> None:
    # (the interpreter's site may have loaded it already: then there is nothing to see)
    code = (
        "import sys; before = 'typing' in sys.modules; "
        "from reprobuild.compare import Item, compare; "
        "compare(Item(name='a.txt', data=b'a\\n'), Item(name='a.txt', data=b'b\\n')); "
        "print(before, 'typing' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = out.stdout.split()
    assert after == before
