"""The purity and cycle checks (:mod:`tests.purity`): each way round them is caught, and
reprobuild passes."""

from __future__ import annotations

import pytest

from tests.purity import ALLOWED, CYCLE_EDGES, PURE, SRC, check_source, check_tree, cycles, main

#: Snippets of a pure module, each reaching what it must not by another spelling, and the name
#: the check gives it.
EVASIONS = {
    "from-import": ("from os import environ\nx = environ['HOME']\n", "os.environ"),
    "from-import-alias": ("from os import getenv as ge\nx = ge('HOME')\n", "os.getenv"),
    "module-alias": ("import os as o\nx = o.environ\n", "os.environ"),
    "getattr-literal": ("import os\nx = getattr(os, 'environ')\n", "os.environ"),
    "getattr-of-alias": ("import os as o\nx = getattr(o, 'getenv')('HOME')\n", "os.getenv"),
    "function-alias": ("from time import time as now\nx = now()\n", "time.time"),
    "time-module": ("import time\nx = time.time_ns()\n", "time.time_ns"),
    "monotonic": ("import time as t\nx = t.monotonic()\n", "time.monotonic"),
    "datetime-now": (
        "from datetime import datetime\nx = datetime.now()\n",
        "datetime.datetime.now",
    ),
    "datetime-utcnow": (
        "import datetime\nx = datetime.datetime.utcnow()\n",
        "datetime.datetime.utcnow",
    ),
    "date-today": ("from datetime import date\nx = date.today()\n", "datetime.date.today"),
    "class-alias": (
        "import datetime as dt\nD = dt.datetime\nx = D.now()\n",
        "datetime.datetime.now",
    ),
    "localtime": ("import time\nx = time.localtime(0)\n", "time.localtime"),
    "gmtime-now": ("import time\nx = time.gmtime()\n", "time.gmtime"),
    "strftime-now": ("from time import strftime\nx = strftime('%Y')\n", "time.strftime"),
    "fromtimestamp-local": (
        "import datetime\nx = datetime.datetime.fromtimestamp(0)\n",
        "datetime.datetime.fromtimestamp",
    ),
    "getpid": ("import os\nx = os.getpid()\n", "os.getpid"),
    "urandom": ("from os import urandom\nx = urandom(16)\n", "os.urandom"),
    "path-home": ("from pathlib import Path\nx = Path.home()\n", "pathlib.Path.home"),
    "path-cwd": ("import pathlib\nx = pathlib.Path.cwd()\n", "pathlib.Path.cwd"),
    "getcwd": ("import os\nx = os.getcwd()\n", "os.getcwd"),
    "os-path-alias": (
        "import os.path as p\nx = p.expanduser('~')\n",
        "os.path.expanduser",
    ),
    "expanduser-on-a-value": ("def f(p):\n    return p.expanduser()\n", "*.expanduser"),
    "now-on-a-value": ("def f(cls):\n    return cls.now()\n", "*.now"),
    "locale": ("import locale\nx = locale.getlocale()\n", "locale"),
    "platform": ("import platform as p\nx = p.node()\n", "platform"),
    "socket": ("from socket import create_connection\n", "socket"),
    "urllib": ("import urllib.request\n", "urllib.request"),
    "subprocess": ("import subprocess\nsubprocess.run(['true'])\n", "subprocess"),
    "os-system": ("import os\nos.system('true')\n", "os.system"),
    "os-exec": ("from os import execv\n", "os.execv"),
    "random": ("import random\nx = random.random()\n", "random"),
    "uuid4": ("import uuid\nx = uuid.uuid4()\n", "uuid.uuid4"),
    "uuid1": ("from uuid import uuid1 as u\nx = u()\n", "uuid.uuid1"),
    "tempfile": ("import tempfile\nx = tempfile.mkdtemp()\n", "tempfile"),
    "import-module": (
        "import importlib\nx = importlib.import_module('subprocess').run\n",
        "subprocess",
    ),
    "import-module-from": (
        "from importlib import import_module as im\nx = im('os').environ\n",
        "os.environ",
    ),
    "dunder-import": ("x = __import__('os').environ\n", "os.environ"),
    "dunder-import-dotted": ("x = __import__('os.path').environ\n", "os.environ"),
    "sys-modules": ("import sys\nx = sys.modules['os'].environ\n", "os.environ"),
    "reassigned-module": ("import os\nm = os\nn = m\nx = n.environ\n", "os.environ"),
    "walrus": ("import os\nif (m := os):\n    x = m.getenv('A')\n", "os.getenv"),
    "module-passed-as-value": ("import os\ndef f(m):\n    return m.environ\nf(os)\n", "os"),
    "module-in-a-tuple": ("import os\nfor m in (os,):\n    x = m.environ\n", "os"),
    "dynamic-getattr": ("import os\nx = getattr(os, 'env' + 'iron')\n", "builtins.getattr"),
    "dynamic-import": (
        "import importlib\nx = importlib.import_module('o' + 's')\n",
        "importlib.import_module",
    ),
    "star-import": ("from os import *\n", "os.*"),
    "eval": ("x = eval('__import__(\"os\").environ')\n", "builtins.eval"),
    "relative-import": (
        "from ..._fs import default_cache_dir\n",
        "reprobuild._fs.default_cache_dir",
    ),
    "zoneinfo": ("from zoneinfo import ZoneInfo\n", "zoneinfo"),
}


@pytest.mark.parametrize("case", sorted(EVASIONS))
def test_each_evasion_is_caught(case: str) -> None:
    source, name = EVASIONS[case]
    found = check_source(source, module="reprobuild.archive.x.y")
    assert name in {v.name for v in found}, [str(v) for v in found]


@pytest.mark.parametrize(
    "source",
    [
        "import time\nx = time.gmtime(0)\n",  # a given time: no clock
        "import datetime\nx = datetime.datetime.fromtimestamp(0, datetime.UTC)\n",
        "from datetime import UTC, datetime\nx = datetime.fromtimestamp(0, tz=UTC)\n",
        "import os\nos.close(3)\nx = os.fstat(3)\nok = hasattr(os, 'writev')\n",
        "import os\nflags = os.O_WRONLY | os.O_CREAT\n",
        "from pathlib import Path\nx = Path('a') / 'b'\n",
        "def f(member):\n    return getattr(member, 'name')\n",
        "import zlib\nx = zlib.compress(b'')\n",
    ],
)
def test_pure_code_passes(source: str) -> None:
    assert check_source(source, module="reprobuild.archive.x.y") == []


def test_an_impure_module_may_reach_the_clock_but_not_print() -> None:
    source = "import os, time\nx = os.environ, time.time()\np = print\np('x')\n"
    found = check_source(source, module="reprobuild.frontend.x", pure=False)
    assert [v.name for v in found] == ["builtins.print", "builtins.print"]
    assert check_source("print('x')\n", module="reprobuild.cli.x", pure=False) == []


def test_an_allowed_name_is_allowed_in_its_function_only() -> None:
    """The spool's tempfile is allowed in Spool._open; a second use elsewhere is not."""
    _found, used = check_tree()
    assert ("archive/spool.py", "Spool._open", "tempfile") in used
    source = (
        "class Spool:\n    def _open(self):\n        import tempfile\n"
        "        return tempfile.mkstemp()\n"
        "def other():\n    return tempfile.gettempdir()\n"
    )
    where = {(v.function, v.name) for v in check_source(source)}
    assert ("other", "tempfile") in where


def test_every_allowed_entry_has_a_reason_and_a_pure_package_exists() -> None:
    assert all(reason and names for names, reason in ALLOWED.values())
    assert all((SRC / p).is_dir() or (SRC / f"{p}.py").is_file() for p in PURE)


def test_a_cycle_between_single_modules_is_found() -> None:
    """Without its listed imports, the compare package's cycle through its __init__ shows."""
    assert cycles() == []
    (cycle,) = cycles({})
    assert {"reprobuild.compare", "reprobuild.compare.registry"} <= set(cycle)
    assert all(CYCLE_EDGES.values())


def test_reprobuild_passes_and_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    """The real tree: no violation, no stale allow-list entry, nothing printed."""
    assert main() == 0
    assert capsys.readouterr() == ("", "")
