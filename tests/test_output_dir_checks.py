"""An output folder that cannot be made is one line from mazedsl-run (single runs and
sweeps), before Hydra creates anything: Hydra's own error was a multi-screen traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mazedsl.cli.preflight import check_creatable
from mazedsl.errors import ConfigError

BIN = Path(sys.executable).parent


def test_a_folder_below_a_file_is_refused_and_a_fine_one_leaves_nothing(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ConfigError, match=r"^output_dir: cannot create .*afile/sub.*is not a directory"):
        check_creatable(tmp_path / "afile" / "sub")
    check_creatable(tmp_path / "new" / "deeper")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]  # the probe left nothing


@pytest.mark.parametrize("multirun", [False, True])
def test_mazedsl_run_names_an_output_dir_it_cannot_create(tmp_path, multirun):
    (tmp_path / "afile").write_text("x")
    args = [str(BIN / "mazedsl-run"), *(["-m"] if multirun else []), "-cn", "conf_train",
            "output_dir=afile/outputs", *(["seed=1,2"] if multirun else []), "total_steps=256"]
    proc = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: output_dir: cannot create '{tmp_path / 'afile' / 'outputs'}': "
        f"'{tmp_path / 'afile'}' is not a directory"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]
