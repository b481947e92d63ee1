"""What a `cchc-sync` process pays before it does anything: the suite starts hundreds of
them (daemon lives, one-off syncs, CLI runs), and so does every timer or service start."""

from __future__ import annotations

import subprocess
import sys


def test_the_cli_does_not_import_matplotlib_until_it_draws_a_chart():
    # matplotlib is only for the report's charts; importing it with the CLI doubled the
    # start-up CPU of `run`, `sync` and `status` (about 1.8 s -> 0.9 s measured).
    probe = ("import sys\n"
             "import cchc_sync.app.cli\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]", done.stdout
    # Drawing still works, with matplotlib imported on demand.
    drawn = subprocess.run(
        [sys.executable, "-c",
         "from cchc_sync.report.charts import bar_chart\n"
         "png = bar_chart('Tỉ lệ', [('UBND xã A', 80.0, False), ('UBND xã B', 55.5, True)],"
         " ('Toàn tỉnh', 70.0))\n"
         "print(png[:8] == b'\\x89PNG\\r\\n\\x1a\\n')\n"],
        capture_output=True, text=True, check=True)
    assert drawn.stdout.strip() == "True", drawn.stderr
