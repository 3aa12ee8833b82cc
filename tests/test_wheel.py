"""The built wheel is complete: installed into a new virtual environment (its dependencies taken
from the project's environment, the package itself only from the wheel), it runs the command line
and loads the demo's authors and the packaged safety specification."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

from project import PROJECT_ROOT


def run(*command, cwd) -> str:
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run([str(part) for part in command], cwd=cwd, env=environment, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_wheel_installs_and_runs_from_a_new_environment(tmp_path):
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", tmp_path / "dist", PROJECT_ROOT,
        cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("hyperalign_dspy-*.whl")
    target = tmp_path / "env"
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", wheel, cwd=tmp_path)
    # Dependencies from the project's environment: a path entry, so its editable install of this
    # package (a .pth file there) stays out of sight.
    site_packages = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path).strip()
    Path(site_packages, "project-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    script = ("import hyperalign_dspy as ha; print(ha.__file__); a = ha.load_authors(); "
              "print(len({e.author for e in a}), len(a)); print(ha.load_spec().splitlines()[0])")
    where, counts, spec = run(python, "-c", script, cwd=tmp_path).splitlines()
    assert where.startswith(site_packages)  # the wheel's copy, not the checkout
    assert counts == "12 48" and spec == "# Safety specification"
    assert "personalize" in run(target / "bin" / "hyperalign", "--help", cwd=tmp_path)
    assert "--author" in run(target / "bin" / "hyperalign", "demo", "--help", cwd=tmp_path)
