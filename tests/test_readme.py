"""The README's Python examples run as written, on a fresh clone (no training run needed)."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
NEEDS_A_RUN = "# needs a training run"  # a block with this comment is not run


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(), re.S | re.M)


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_python_example_runs(index, tmp_path):
    code = python_blocks()[index]
    if NEEDS_A_RUN in code:
        pytest.skip("the example needs a training run")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, f"README example {index}:\n{code}\n{result.stderr[-3000:]}"
