"""The command line starts without loading what only training a scoring model needs (scikit-learn and
SciPy, more than a second of every command's start); they load when a model is trained."""

from __future__ import annotations

import subprocess
import sys


def test_starting_the_command_line_loads_neither_scikit_learn_nor_scipy() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, leadflow.cli; print(sorted({n.split('.')[0] for n in sys.modules}))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "'leadflow'" in loaded
    assert "'sklearn'" not in loaded and "'scipy'" not in loaded
